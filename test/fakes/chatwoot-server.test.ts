import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { openApiChecker } from '../helpers/openapi.js'

// The contract checks are only worth something if they catch bad requests.
describe('the Chatwoot OpenAPI checker', () => {
  const check = openApiChecker(join(import.meta.dirname, '../fixtures/chatwoot/swagger.json'))
  const auth = { api_access_token: 'token' }

  it('passes a valid private note', () => {
    expect(
      check({
        method: 'POST',
        path: '/api/v1/accounts/1/conversations/2/messages',
        headers: auth,
        body: { content: 'nota', message_type: 'outgoing', private: true },
      }),
    ).toEqual([])
  })

  it('flags a body that breaks the schema', () => {
    expect(
      check({
        method: 'POST',
        path: '/api/v1/accounts/1/conversations/2/toggle_priority',
        headers: auth,
        body: { priority: 'critical' },
      }),
    ).toEqual(['body/priority must be equal to one of the allowed values'])
    expect(
      check({
        method: 'POST',
        path: '/api/v1/accounts/1/conversations/2/messages',
        headers: auth,
        body: { private: true },
      }),
    ).toEqual(["body must have required property 'content'"])
  })

  it('flags a missing token, a bad path parameter and an unknown operation', () => {
    expect(
      check({ method: 'GET', path: '/api/v1/accounts/1/teams', headers: {}, body: undefined }),
    ).toEqual(['missing the api_access_token header the operation requires'])
    expect(
      check({ method: 'GET', path: '/api/v1/accounts/acme/teams', headers: auth, body: undefined }),
    ).toEqual(['path parameter account_id="acme" is not an integer'])
    expect(
      check({ method: 'DELETE', path: '/api/v1/accounts/1/teams', headers: auth, body: undefined }),
    ).toEqual(['DELETE /api/v1/accounts/1/teams: no such operation in the spec'])
  })
})
