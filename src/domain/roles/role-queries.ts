/**
 * The roles' permission sets, as every permission check needs them: read once per `roles_version` in
 * each process (version-cache.ts), so a check costs no statement. Every change of a role writes a new
 * version (role-service.ts) in its own transaction; the settings are read with each request anyway.
 */
import type { Knex } from 'knex';
import { getSettings, type Settings } from '../settings/settings-service.ts';
import { versionCache } from '../version-cache.ts';
import { parsePermissions, type Permission } from './role-permissions.ts';

export interface RolePermissions {
  id: number;
  name: string;
  permissions: ReadonlySet<Permission>;
}

const rolesCache = versionCache<ReadonlyMap<number, RolePermissions>>(() => new Map());

/**
 * Every role by id, with its permissions (no statement unless a role changed since this process last
 * read them). `settings`: the caller's, when it has them (outside a request, reading them is a statement).
 */
export async function rolesById(db: Knex | Knex.Transaction, settings?: Pick<Settings, 'roles_version'>): Promise<ReadonlyMap<number, RolePermissions>> {
  const { roles_version: version } = settings ?? (await getSettings(db));
  return rolesCache(version, async () => {
    const rows = await db('roles').select('id', 'name', 'permissions');
    return new Map(rows.map((r: any) => [Number(r.id), { id: Number(r.id), name: String(r.name), permissions: new Set(parsePermissions(r.permissions)) }]));
  });
}
