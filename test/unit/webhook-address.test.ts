/**
 * Where webhooks may go (src/domain/webhooks/webhook-address.ts): public addresses always; loopback and
 * private ones only with the setting; link-local / cloud metadata and the other special-purpose
 * addresses never — written in any of the forms an attacker would try (IPv4-mapped IPv6, hex groups,
 * NAT64, integer or hex IPv4 in a URL), and on every address a host name resolves to.
 */
import { describe, expect, it } from 'vitest';
import { webhookAddressRefusal, webhookLookup, webhookUrlRefusal, WebhookAddressRefused, type HostResolver } from '../../src/domain/webhooks/webhook-address.ts';

const allowed = (ip: string, local: boolean) => webhookAddressRefusal(ip, local) === null;

describe('webhookAddressRefusal', () => {
  it('lets public addresses through, with or without the setting', () => {
    for (const ip of ['8.8.8.8', '93.184.216.34', '172.15.255.255', '172.32.0.1', '100.63.255.255', '100.128.0.1', '2606:4700:4700::1111', '2a00:1450:4001:80b::200e', '::ffff:8.8.8.8', '64:ff9b::808:808']) {
      expect(allowed(ip, false), ip).toBe(true);
      expect(allowed(ip, true), ip).toBe(true);
    }
  });

  it('refuses loopback and private addresses unless the setting allows the local network', () => {
    for (const ip of ['127.0.0.1', '127.255.0.9', '10.0.0.1', '10.255.255.254', '172.16.0.1', '172.31.255.255', '192.168.1.20', '::1', 'fc00::1', 'fd12:3456::7',
      '::ffff:127.0.0.1', '::ffff:7f00:1', '::FFFF:10.0.0.1', '0:0:0:0:0:ffff:c0a8:0101', '64:ff9b::a00:1']) {
      expect(webhookAddressRefusal(ip, false), ip).toMatch(/ is a (loopback|private|private \(unique local\)) address: webhooks to the local network are off/);
      expect(allowed(ip, true), ip).toBe(true);
    }
  });

  it('never allows link-local / cloud metadata, unspecified, multicast or reserved addresses, even with the setting', () => {
    for (const ip of ['169.254.169.254', '169.254.0.1', '::ffff:169.254.169.254', '::ffff:a9fe:a9fe', '64:ff9b::a9fe:a9fe', 'fe80::1', 'fe80::a9fe:a9fe', 'fd00:ec2::254', '100.100.100.200',
      '0.0.0.0', '0.1.2.3', '::', '224.0.0.1', '239.255.255.250', 'ff02::1', '255.255.255.255', '240.0.0.1']) {
      expect(webhookAddressRefusal(ip, true), ip).toMatch(/webhooks are never sent there$/);
      expect(allowed(ip, false), ip).toBe(false);
    }
    expect(webhookAddressRefusal('169.254.169.254', true)).toBe('169.254.169.254 is a link-local (cloud metadata) address: webhooks are never sent there');
  });

  it('refuses the other non-public addresses (CGNAT, documentation, benchmarking, 6to4, Teredo, outside 2000::/3) with or without the setting', () => {
    for (const ip of ['100.64.0.1', '100.127.255.254', '192.0.0.8', '192.0.2.1', '198.51.100.7', '203.0.113.9', '198.18.0.1', '2001:db8::1', '2001:0:4136:e378::1', '2002:7f00:1::1', 'fec0::1', '100::1', '::ffff:100.64.0.1']) {
      expect(allowed(ip, false), ip).toBe(false);
      expect(allowed(ip, true), ip).toBe(false);
    }
  });
});

describe('webhookUrlRefusal (the form)', () => {
  it('checks an IP address written in the URL in any form the URL parser accepts, and localhost', () => {
    for (const url of ['http://127.0.0.1:8080/hook', 'http://2130706433/', 'http://0x7f.1/', 'http://[::1]/x', 'http://[::ffff:127.0.0.1]/', 'https://10.1.2.3/', 'http://localhost:3000/', 'http://api.localhost/', 'http://LOCALHOST./']) {
      expect(webhookUrlRefusal(url, false), url).toMatch(/local network are off/);
      expect(webhookUrlRefusal(url, true), url).toBeNull();
    }
    expect(webhookUrlRefusal('http://169.254.169.254/latest/meta-data/', true)).toMatch(/never sent there/);
    expect(webhookUrlRefusal('http://[fe80::1]/', true)).toMatch(/never sent there/);
  });

  it('leaves host names to the delivery (they are resolved when it connects), and an unparsable URL to the URL rule', () => {
    expect(webhookUrlRefusal('https://hooks.example.com/in', false)).toBeNull();
    expect(webhookUrlRefusal('https://8.8.8.8/in', false)).toBeNull();
    expect(webhookUrlRefusal('not a url', false)).toBeNull();
  });
});

describe('webhookLookup (the socket’s lookup)', () => {
  const lookupWith = (resolve: HostResolver, allowLocal: boolean, options: { all?: boolean; family?: number } = {}) =>
    new Promise<{ err: any; result: unknown[] }>((done) => {
      (webhookLookup(allowLocal, resolve) as any)('hooks.example.test', options, (err: any, ...result: unknown[]) => done({ err, result }));
    });

  it('hands the socket exactly the addresses it checked, in the form asked for', async () => {
    const resolve: HostResolver = async () => [{ address: '8.8.8.8', family: 4 }, { address: '2606:4700:4700::1111', family: 6 }];
    expect(await lookupWith(resolve, false)).toEqual({ err: null, result: ['8.8.8.8', 4] });
    expect(await lookupWith(resolve, false, { all: true })).toEqual({ err: null, result: [[{ address: '8.8.8.8', family: 4 }, { address: '2606:4700:4700::1111', family: 6 }]] });
    expect(await lookupWith(resolve, false, { family: 6 })).toEqual({ err: null, result: ['2606:4700:4700::1111', 6] });
  });

  it('refuses the host when any address it resolves to is refused (a rebinding name mixes them)', async () => {
    const { err } = await lookupWith(async () => [{ address: '8.8.8.8', family: 4 }, { address: '127.0.0.1', family: 4 }], false);
    expect(err).toBeInstanceOf(WebhookAddressRefused);
    expect(err.message).toBe('hooks.example.test resolves to 127.0.0.1, a loopback address: webhooks to the local network are off (Admin → Settings, “Allow webhooks to the local network”)');
    expect((await lookupWith(async () => [{ address: '::ffff:169.254.169.254', family: 6 }], true)).err).toBeInstanceOf(WebhookAddressRefused);
  });

  it('passes resolver errors on as they are (a DNS failure is retried like any failed attempt)', async () => {
    const { err } = await lookupWith(async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND hooks.example.test'), { code: 'ENOTFOUND' });
    }, false);
    expect(err).not.toBeInstanceOf(WebhookAddressRefused);
    expect(err.code).toBe('ENOTFOUND');
  });
});
