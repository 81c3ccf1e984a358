import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Firmware } from '../src/firmware/firmware-types.js';
import { createTestUsers, type TestPrincipal } from '../src/test-helpers/test-auth.js';
import { TEST_DIALECTS } from '../src/test-helpers/test-databases.js';
import { startTestServer, type TestServer } from '../src/test-helpers/test-server.js';

const MAX = 2 * 1024 * 1024;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** One Intel HEX data record with its checksum. */
function hexRecord(address: number, data: Buffer): string {
  const bytes = Buffer.concat([Buffer.from([data.length, address >> 8, address & 0xff, 0]), data]);
  const sum = bytes.reduce((a, b) => a + b, 0);
  return `:${Buffer.concat([bytes, Buffer.from([(0x100 - (sum & 0xff)) & 0xff])])
    .toString('hex')
    .toUpperCase()}`;
}

for (const dialect of TEST_DIALECTS) {
  describe(`firmware catalogue API on ${dialect}`, () => {
    let server: TestServer;
    let admin: TestPrincipal;
    let contributor: TestPrincipal;
    const dir = mkdtempSync(path.join(os.tmpdir(), 'trustlink-fw-api-'));

    beforeAll(async () => {
      server = await startTestServer(dialect, {
        env: { TRUSTLINK_FIRMWARE_MAX_BYTES: String(MAX) },
      });
      ({ admin, contributor } = await createTestUsers(server));
    });
    afterAll(async () => {
      await server?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    const upload = (query: string, body: Buffer | string, who = admin, headers = {}) =>
      server.request('POST', `/api/v1/firmware?${query}`, {
        body,
        headers: { ...who.headers, 'content-type': 'application/octet-stream', ...headers },
      });
    const blobFiles = () => {
      const root = path.join(server.config.dataDir, 'firmware', server.runtime.instance.id);
      try {
        return readdirSync(root).sort();
      } catch {
        return [];
      }
    };
    const list = async (query = '') =>
      (
        await server.request('GET', `/api/v1/firmware${query}`, { headers: contributor.headers })
      ).json<{ items: Firmware[] }>().items;

    it('ok/an Intel HEX upload is stored as the binary objcopy makes of it', async () => {
      const bin = randomBytes(70_000);
      writeFileSync(path.join(dir, 'app.bin'), bin);
      execFileSync('objcopy', [
        ...['-I', 'binary', '-O', 'ihex', '--change-addresses', '0x08000000'],
        ...[path.join(dir, 'app.bin'), path.join(dir, 'app.hex')],
      ]);
      const hex = readFileSync(path.join(dir, 'app.hex'));
      const res = await upload(
        'name=Gateway%20app&version=1.2.0&securityVersion=3&input=intel-hex&description=first&attr=board:tl-gw-2&attr=soc:stm32',
        hex,
      );
      expect(res.status, res.text).toBe(201);
      const fw = res.json<Firmware>();
      expect(fw).toMatchObject({
        name: 'Gateway app',
        version: '1.2.0',
        securityVersion: 3,
        format: 'raw',
        input: 'intel-hex',
        baseAddress: 0x08000000,
        size: bin.length,
        sha256: sha256(bin),
        description: 'first',
        createdBy: admin.user.username,
        signatures: [],
        batches: [],
      });
      expect(fw.attributes).toEqual([
        { name: 'board', value: 'tl-gw-2' },
        { name: 'soc', value: 'stm32' },
      ]);
      const img = await server.request('GET', `/api/v1/firmware/${fw.id}/image`, {
        headers: contributor.headers,
      });
      expect(img.status).toBe(200);
      expect(img.headers.etag).toBe(`"${sha256(bin)}"`);
      expect(img.body.equals(bin)).toBe(true);
      expect(blobFiles()).toContain(sha256(bin));
    });

    it('ok/a binary upload is stored as sent, once however often it is uploaded', async () => {
      const bin = randomBytes(1_500_000);
      const a = await upload(
        'name=Bundle&version=2026.03&format=linux-bundle-cms&attr=board:tl-gw-2',
        bin,
      );
      expect(a.status, a.text).toBe(201);
      expect(a.json<Firmware>()).toMatchObject({
        input: 'binary',
        baseAddress: null,
        size: bin.length,
      });
      const b = await upload('name=Bundle%20copy&version=2026.03', bin);
      expect(b.status).toBe(201);
      expect(blobFiles().filter((f) => f === sha256(bin))).toHaveLength(1);
      // Deleting one record keeps the bytes the other still uses.
      const del = await server.request('DELETE', `/api/v1/firmware/${b.json<Firmware>().id}`, {
        headers: admin.headers,
      });
      expect(del.status).toBe(204);
      expect(blobFiles()).toContain(sha256(bin));
    });

    it('fail/a bad Intel HEX record is refused with its line, and nothing is stored', async () => {
      const before = blobFiles();
      const rec0 = hexRecord(0x0000, randomBytes(16));
      const rec1 = hexRecord(0x0010, randomBytes(16));
      const bad = hexRecord(0x0020, randomBytes(16)).replace(/..$/, (c) =>
        ((parseInt(c, 16) + 1) & 0xff).toString(16).padStart(2, '0').toUpperCase(),
      ); // wrong checksum
      const res = await upload(
        'name=Broken&version=1&input=intel-hex',
        `${rec0}\n${rec1}\r\n${bad}\n:00000001FF\n`,
      );
      expect(res.status).toBe(400);
      expect(res.json()).toMatchObject({
        type: expect.stringMatching(/intel-hex-invalid$/),
        line: 3,
        detail: expect.stringMatching(/^Intel HEX line 3: .*checksum/),
      });
      const overlap = await upload(
        'name=Broken&version=1&input=intel-hex',
        `${rec0}\n${rec0}\n:00000001FF\n`,
      );
      expect(overlap.status).toBe(400);
      expect(overlap.json()).toMatchObject({ line: 2, reason: expect.stringMatching(/overlaps/) });
      expect(blobFiles()).toEqual(before);
      expect((await list()).map((f) => f.name)).not.toContain('Broken');
    });

    it('fail/over the size limit: 413, whether the length is declared or not, nothing stored', async () => {
      const before = blobFiles();
      const big = randomBytes(MAX + 1);
      const chunked = await upload('name=Too%20big&version=1', big);
      expect(chunked.status).toBe(413);
      const declared = await upload('name=Too%20big&version=1', big, admin, {
        'content-length': String(big.length),
      });
      expect(declared.status).toBe(413);
      const hex = await upload(
        'name=Too%20big&version=1&input=intel-hex',
        Buffer.alloc(MAX + 10, 0x0a),
      );
      expect(hex.status).toBe(413);
      expect(blobFiles()).toEqual(before);
    });

    it('fail/bad metadata, an empty image and a taken name are refused', async () => {
      const cases: [string, string, number, RegExp][] = [
        ['no name', 'version=1', 400, /validation-failed$/],
        ['bad attribute', 'name=X&version=1&attr=nocolon', 400, /validation-failed$/],
        ['duplicate attribute', 'name=X&version=1&attr=a:1&attr=a:2', 400, /validation-failed$/],
        [
          'negative security version',
          'name=X&version=1&securityVersion=-1',
          400,
          /validation-failed$/,
        ],
        ['unknown format', 'name=X&version=1&format=zip', 400, /validation-failed$/],
        ['taken name', 'name=Gateway%20app&version=1', 409, /name-taken$/],
      ];
      for (const [what, query, status, type] of cases) {
        const res = await upload(query, Buffer.from('image'));
        expect(res.status, what).toBe(status);
        expect(res.json<{ type: string }>().type, what).toMatch(type);
      }
      const empty = await upload('name=Empty&version=1', Buffer.alloc(0));
      expect(empty.status).toBe(400);
      const json = await server.request('POST', '/api/v1/firmware?name=J&version=1', {
        body: { not: 'an image' },
        headers: admin.headers,
      });
      expect(json.status).toBe(415);
    });

    it('ok/filter by attributes with AND and OR', async () => {
      await upload('name=Sensor&version=1&attr=board:tl-sn-1&attr=soc:esp32c3', randomBytes(100));
      const names = async (q: string) => (await list(q)).map((f) => f.name);
      expect(await names('')).toEqual(['Bundle', 'Gateway app', 'Sensor']);
      expect(await names('?attr=board:tl-gw-2')).toEqual(['Bundle', 'Gateway app']);
      expect(await names('?operator=and&attr=board:tl-gw-2&attr=soc:stm32')).toEqual([
        'Gateway app',
      ]);
      expect(await names('?operator=or&attr=soc:stm32&attr=soc:esp32c3')).toEqual([
        'Gateway app',
        'Sensor',
      ]);
      expect(await names('?operator=and&attr=soc:stm32&attr=soc:esp32c3')).toEqual([]);
      const bad = await server.request('GET', '/api/v1/firmware?attr=x', {
        headers: admin.headers,
      });
      expect(bad.status).toBe(400);
    });

    it('ok/edit name, description and attributes; the versions and image stay', async () => {
      const [fw] = await list('?attr=soc:esp32c3');
      const res = await server.request('PATCH', `/api/v1/firmware/${fw!.id}`, {
        headers: admin.headers,
        body: {
          name: 'Sensor v1',
          description: 'field units',
          attributes: [{ name: 'board', value: 'tl-sn-2' }],
        },
      });
      expect(res.status, res.text).toBe(200);
      expect(res.json<Firmware>()).toMatchObject({
        name: 'Sensor v1',
        description: 'field units',
        attributes: [{ name: 'board', value: 'tl-sn-2' }],
        sha256: fw!.sha256,
        version: fw!.version,
      });
      const taken = await server.request('PATCH', `/api/v1/firmware/${fw!.id}`, {
        headers: admin.headers,
        body: { name: 'Bundle' },
      });
      expect(taken.status).toBe(409);
      const versionChange = await server.request('PATCH', `/api/v1/firmware/${fw!.id}`, {
        headers: admin.headers,
        body: { version: '9' },
      });
      expect(versionChange.status).toBe(400);
    });

    it('fail/contributors get 403 on upload, edit and delete; they can list and download', async () => {
      const [fw] = await list();
      const up = await upload('name=Nope&version=1', randomBytes(10), contributor);
      expect(up.status).toBe(403);
      const edit = await server.request('PATCH', `/api/v1/firmware/${fw!.id}`, {
        headers: contributor.headers,
        body: { description: 'x' },
      });
      expect(edit.status).toBe(403);
      const del = await server.request('DELETE', `/api/v1/firmware/${fw!.id}`, {
        headers: contributor.headers,
      });
      expect(del.status).toBe(403);
      expect((await list()).map((f) => f.name)).not.toContain('Nope');
      const audit = await server.runtime.db.kysely
        .selectFrom('audit_log')
        .select(['action', 'result'])
        .where('action', '=', 'access.denied')
        .execute();
      expect(audit.length).toBeGreaterThanOrEqual(3);
    });

    it('ok/deleting the last record of an image removes its bytes', async () => {
      const [fw] = await list('?attr=board:tl-sn-2');
      const res = await server.request('DELETE', `/api/v1/firmware/${fw!.id}`, {
        headers: admin.headers,
      });
      expect(res.status).toBe(204);
      expect(blobFiles()).not.toContain(fw!.sha256);
      expect(
        (await server.request('GET', `/api/v1/firmware/${fw!.id}`, { headers: admin.headers }))
          .status,
      ).toBe(404);
    });
  });
}
