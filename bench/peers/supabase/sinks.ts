// Loopback stand-ins for Supabase Auth's providers: an SMTP server that takes every message (its default mailer
// opens a connection per mail) and an HTTP endpoint for its send-SMS hook, both answering at once, as the fake
// SendGrid of otp-gate's bench answers its worker. Usage: node sinks.ts <smtpPort> <hookPort>; counts on SIGTERM.
import { createServer as createTcpServer } from 'node:net'
import { createServer as createHttpServer } from 'node:http'

const [smtpPort, hookPort] = process.argv.slice(2).map(Number)
let mails = 0
let hooks = 0

createTcpServer({ noDelay: true }, (socket) => {
  let inData = false
  let buffer = ''
  socket.write('220 sink ESMTP\r\n')
  socket.on('data', (chunk) => {
    buffer += chunk.toString('latin1')
    for (;;) {
      if (inData) {
        const end = buffer.indexOf('\r\n.\r\n')
        if (end === -1) return
        buffer = buffer.slice(end + 5)
        inData = false
        mails++
        socket.write('250 2.0.0 queued\r\n')
        continue
      }
      const eol = buffer.indexOf('\r\n')
      if (eol === -1) return
      const verb = buffer.slice(0, 4).toUpperCase()
      buffer = buffer.slice(eol + 2)
      if (verb === 'EHLO') socket.write('250-sink\r\n250 8BITMIME\r\n')
      else if (verb === 'DATA') {
        inData = true
        socket.write('354 go on\r\n')
      } else if (verb === 'QUIT') {
        socket.end('221 bye\r\n')
        return
      } else socket.write('250 ok\r\n')
    }
  })
  socket.on('error', () => {})
}).listen(smtpPort, '127.0.0.1')

createHttpServer((request, response) => {
  request.resume()
  request.on('end', () => {
    hooks++
    response.writeHead(200, { 'content-type': 'application/json' })
    response.end('{}')
  })
}).listen(hookPort, '127.0.0.1')

process.on('SIGTERM', () => {
  console.log(JSON.stringify({ mails, hooks }))
  process.exit(0)
})
console.log(`sinks: smtp ${smtpPort}, hook ${hookPort}`)
