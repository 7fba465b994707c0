// The single place that turns any thrown error into the RS error body {error_code, description, message}.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../lib/api-error.js';
import { StoreUnavailableError } from '../store/cluster-store.js';

export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof StoreUnavailableError) return new ApiError('store_unavailable', 'The cluster store cannot be reached; retry later', {}, { cause: error });
  const fastifyError = error as Partial<FastifyError>;
  if (fastifyError.validation !== undefined) {
    return new ApiError('invalid_schema', `Invalid request: ${fastifyError.message ?? 'schema mismatch'}`);
  }
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError('payload_too_large', 'The request body is larger than the limit');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiError('unsupported_media_type', 'The request body must be application/json');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new ApiError('invalid_schema', 'The request body is not valid JSON');
  }
  if (error instanceof SyntaxError || fastifyError.statusCode === 400) {
    return new ApiError('invalid_schema', 'The request body is not valid JSON');
  }
  return new ApiError('internal_error', 'An unexpected error occurred', {}, { cause: error });
}

export function handleError(error: unknown, request: FastifyRequest, reply: FastifyReply): void {
  const apiError = toApiError(error);
  if (apiError.statusCode >= 500) request.log.error({ err: error }, 'request failed');
  else request.log.info({ error_code: apiError.errorCode, status: apiError.statusCode }, 'request rejected');
  void reply.status(apiError.statusCode).send(apiError.toBody());
}
