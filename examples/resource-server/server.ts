// npm start -w examples/resource-server, with OTP_GATE_ISSUER (otp-gate's JWT_ISSUER) and OTP_GATE_AUDIENCE set
import { buildResourceServer } from './app.ts'

const issuer = process.env.OTP_GATE_ISSUER ?? 'http://127.0.0.1:3000'
const audience = process.env.OTP_GATE_AUDIENCE ?? 'otp-gate'
const app = await buildResourceServer({ issuer, audience })
await app.listen({ port: Number(process.env.PORT ?? 4000), host: '127.0.0.1' })
console.log(`resource server on ${app.listeningOrigin}, trusting ${issuer}`)
