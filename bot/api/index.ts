export {
  API_SCOPES,
  type ApiScope,
  type ApiTokenIdentity,
  type ApiTokenTable,
  type BearerFailure,
  type BearerVerification,
  EMPTY_API_TOKENS,
  hashApiToken,
  hasScope,
  parseApiTokens,
  readApiTokens,
  verifyBearerToken,
} from './api-tokens.js';
export { type ApiErrorBody, requireBearer } from './require-bearer.js';
