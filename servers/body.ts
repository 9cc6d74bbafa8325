import type { IncomingMessage } from 'node:http'
import { badJson, bodyTooLarge, HttpError, unsupportedMediaType, validation } from './errors.js'

/** Past this many bytes we stop draining an oversized body and drop the connection. */
const DRAIN_CAP = 1024 * 1024

function isJsonType (contentType: string | undefined): boolean {
  if (contentType === undefined) return false
  const type = contentType.split(';', 1)[0]!.trim().toLowerCase()
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'))
}

/**
 * Read a JSON object body of at most `limit` bytes.
 * 415 ERR_UNSUPPORTED_MEDIA_TYPE unless content-type is JSON; 413
 * ERR_BODY_TOO_LARGE over the limit (declared or streamed); 400 ERR_BAD_JSON
 * when it does not parse; 400 ERR_VALIDATION when it is not an object.
 * An oversized body is drained (up to 1 MiB) before answering so the client
 * reads our 413 instead of a connection reset.
 */
export async function readJsonBody (req: IncomingMessage, limit: number): Promise<Record<string, unknown>> {
  if (!isJsonType(req.headers['content-type'])) throw unsupportedMediaType()
  const declared = req.headers['content-length'] === undefined ? undefined : Number(req.headers['content-length'])
  if (declared !== undefined && declared > limit) {
    // Node drains the unread body after the response (keeps the socket usable).
    throw bodyTooLarge(limit)
  }
  const chunks: Buffer[] = []
  let size = 0
  let tooLarge = false
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      size += chunk.length
      if (size > limit) {
        tooLarge = true
        chunks.length = 0
        if (size > DRAIN_CAP) { cleanup(); req.destroy(); resolve() }
        return
      }
      chunks.push(chunk)
    }
    const onEnd = (): void => { cleanup(); resolve() }
    // The client went away: nobody reads the answer, but it must not count as a 500.
    const onError = (err: Error): void => { cleanup(); reject(new HttpError(400, 'ERR_ABORTED', 'request body could not be read', { cause: err })) }
    const cleanup = (): void => {
      req.off('data', onData); req.off('end', onEnd); req.off('error', onError); req.off('aborted', onAborted)
    }
    const onAborted = (): void => { cleanup(); reject(new HttpError(400, 'ERR_ABORTED', 'request aborted')) }
    req.on('data', onData)
    req.once('end', onEnd)
    req.once('error', onError)
    req.once('aborted', onAborted)
  })
  if (tooLarge) throw bodyTooLarge(limit)
  let value: unknown
  try {
    value = JSON.parse(Buffer.concat(chunks, size).toString('utf8'))
  } catch (err) {
    throw badJson(err)
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw validation('request body must be a JSON object')
  return value as Record<string, unknown>
}

/** A required string field of at most `max` characters, else 400 ERR_VALIDATION naming the field. */
export function stringField (body: Record<string, unknown>, name: string, max = 1024): string {
  const v = body[name]
  if (typeof v !== 'string' || v.length === 0) throw validation(`"${name}" must be a non-empty string`)
  if (v.length > max) throw validation(`"${name}" must be at most ${max} characters`)
  return v
}

const LANGUAGE = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$/

/** A short BCP 47-ish language tag such as "en" or "fr-CA", else 400 ERR_VALIDATION. */
export function languageField (body: Record<string, unknown>): string {
  const v = body['language']
  if (typeof v !== 'string' || !LANGUAGE.test(v)) throw validation('"language" must be a short language tag such as "en" or "fr-CA"')
  return v
}
