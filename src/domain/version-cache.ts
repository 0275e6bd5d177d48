/**
 * A value read once per version in each process. What admins define and every request may need
 * (ticket filters, custom fields, featured knowledge-base articles, webhooks, reworded mail) is kept
 * until its `*_version` setting changes: every change writes a new one in its own transaction, and the
 * settings are read with each request anyway, so a cache hit costs no statement. Version '' (nothing
 * was ever saved) gives `empty()` without a read. A read that fails is not kept: the next call reads again.
 */
export function versionCache<T>(empty: () => T): (version: string, load: () => Promise<T>) => Promise<T> {
  let cache: { version: string; value: Promise<T> } | null = null;
  return (version, load) => {
    if (!version) return Promise.resolve(empty());
    if (cache?.version === version) return cache.value;
    const value = load();
    cache = { version, value };
    value.catch(() => {
      if (cache?.value === value) cache = null;
    });
    return value;
  };
}
