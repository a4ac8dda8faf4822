import { Type } from 'typebox'
console.log(JSON.stringify(Type.Enum(['a', 'b'])), JSON.stringify(Type.Unsafe<'a'>({ $ref: 'X#' })), JSON.stringify(Type.Object({a: Type.String()})))
console.log(Object.getOwnPropertyNames(Type.Object({a: Type.String()})), Object.getOwnPropertySymbols(Type.Object({})))
