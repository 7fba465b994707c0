// Every registered route declares the permission it checks (STYLE.md "Routes"); only the readiness probe
// GET /v1/bootstrap is public.
import { describe, expect, it } from 'vitest';
import { allRoutes } from './index.js';
import { isPermission } from '../../domain/rbac.js';

describe('route table', () => {
  it('has routes, each with a distinct method and url', () => {
    expect(allRoutes.length).toBeGreaterThan(0);
    const ids = allRoutes.map((r) => `${r.method} ${r.url}`);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it.each(allRoutes.map((r) => [`${r.method} ${r.url}`, r] as const))('%s declares a known permission', (_id, route) => {
    const permission: unknown = route.permission;
    expect(typeof permission).toBe('string');
    expect(permission).not.toBe('none');
    expect(permission).not.toBe('');
    expect(isPermission(permission) || permission === 'authenticated' || permission === 'public').toBe(true);
  });

  it('makes only GET /v1/bootstrap, GET /v1/openapi.json (the API description) and POST /v1/users/authorize (it authenticates in its handler) public', () => {
    const publicRoutes = allRoutes.filter((r) => r.permission === 'public').map((r) => `${r.method} ${r.url}`);
    expect(publicRoutes.sort()).toEqual(['GET /v1/bootstrap', 'GET /v1/openapi.json', 'POST /v1/users/authorize']);
  });

  it('guards every write with a named permission, never just "authenticated", except self-service user updates', () => {
    const loose = allRoutes
      .filter((r) => r.method !== 'GET' && r.permission === 'authenticated')
      .map((r) => `${r.method} ${r.url}`);
    // PUT /v1/users/{uid}: any user may change their own name, password and alert settings (digest §6.1);
    // the handler checks update_user for everything else.
    // POST /v1/users/refresh_jwt: any holder of a valid token gets a new one for themselves.
    expect(loose.every((id) => id === 'PUT /v1/users/:uid' || id === 'POST /v1/users/refresh_jwt' || id.startsWith('PUT /v1/users/password') || id.startsWith('POST /v1/users/password') || id.startsWith('DELETE /v1/users/password'))).toBe(true);
  });
});
