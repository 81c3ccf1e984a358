import { randomBytes } from 'node:crypto';
import type { User } from '../users/users-types.js';
import type { Role } from '../users/users-types.js';
import type { TestServer } from './test-server.js';

/** A user made for a test, with an API token and the headers that carry it. */
export interface TestPrincipal {
  user: User;
  password: string;
  token: string;
  /** `{ authorization: 'Bearer ...' }`, to spread into request options' headers. */
  headers: Record<string, string>;
}

const SYSTEM = { actor: { type: 'system' as const, name: 'test-auth' } };

/**
 * Creates a user of a role through the user and token services (no back door), with two-factor
 * on as for real users, and an API token (tokens need no second factor).
 */
export async function createTestUser(
  server: TestServer,
  role: Role,
  username = `${role}-${randomBytes(4).toString('hex')}`,
): Promise<TestPrincipal> {
  const { access, instance } = server.runtime;
  const password = `pw-${randomBytes(12).toString('base64url')}`;
  const user = await access.users.create(
    instance.id,
    {
      username,
      email: `${username}@example.test`,
      firstName: role,
      lastName: 'Tester',
      role,
      password,
    },
    SYSTEM,
  );
  const { token } = await access.apiTokens.create(
    instance.id,
    { id: user.id, username },
    { name: `${username} test token`, expiresInDays: 1 },
    SYSTEM,
  );
  return { user, password, token, headers: { authorization: `Bearer ${token}` } };
}

/**
 * An administrator and a contributor with API tokens, for route tests of other domains:
 * `request('GET', '/api/v1/x', { headers: admin.headers })`.
 */
export async function createTestUsers(
  server: TestServer,
): Promise<{ admin: TestPrincipal; contributor: TestPrincipal }> {
  const admin = await createTestUser(server, 'administrator');
  const contributor = await createTestUser(server, 'contributor');
  return { admin, contributor };
}
