import type { Command } from 'commander';
import { withConnection, withTarget, type ConnectionOptions } from '../cli/cli-context.js';
import { ConfigError } from '../config.js';
import type { AuditEntry, AuditVerification } from './audit-types.js';

/** One line per entry: time, result, actor, action, target, address. */
export function formatEntry(e: AuditEntry): string {
  const target = e.target ? ` ${e.target.type}:${e.target.name ?? e.target.id ?? ''}` : '';
  const details = Object.keys(e.details).length ? ` ${JSON.stringify(e.details)}` : '';
  return `${e.at}  #${e.seq}  ${e.result.padEnd(6)}  ${e.actor.type}:${e.actor.name}  ${e.action}${target}${e.sourceAddress ? `  from ${e.sourceAddress}` : ''}${details}`;
}

/** `trustlink audit tail|verify`, locally or against a server. */
export function registerAuditCommands(
  program: Command,
  run: (fn: () => Promise<void>) => Promise<void>,
) {
  const audit = program.command('audit').description('the tamper-evident audit log');

  withConnection(
    audit
      .command('tail')
      .description('print the newest entries, oldest first')
      .option('-n, --lines <n>', 'how many', '20'),
  ).action((o: ConnectionOptions & { lines: string }) =>
    run(async () => {
      const n = Number(o.lines);
      if (!Number.isInteger(n) || n < 1 || n > 500) throw new ConfigError('--lines: 1 to 500');
      const entries = await withTarget(o, async (t) =>
        t.mode === 'remote'
          ? (await t.call<{ entries: AuditEntry[] }>('GET', `/api/v1/audit?limit=${n}`)).entries
          : t.runtime.audit.recent(t.runtime.instance.id, n),
      );
      entries.reverse();
      if (o.json) process.stdout.write(JSON.stringify(entries, null, 2) + '\n');
      else for (const e of entries) process.stdout.write(formatEntry(e) + '\n');
    }),
  );

  withConnection(
    audit
      .command('verify')
      .description(
        'recompute the chain and check the signed checkpoints; exit 1 and name where it breaks',
      ),
  ).action((o: ConnectionOptions) =>
    run(async () => {
      const v = await withTarget(o, (t) =>
        t.mode === 'remote'
          ? t.call<AuditVerification>('POST', '/api/v1/audit/verify')
          : t.runtime.audit.verify(t.runtime.instance.id),
      );
      if (o.json) process.stdout.write(JSON.stringify(v, null, 2) + '\n');
      else {
        const cp = v.lastCheckpoint
          ? `last signed checkpoint at seq ${v.lastCheckpoint.seq} (${v.lastCheckpoint.at})`
          : 'no signed checkpoint yet';
        process.stdout.write(
          `${v.entries} entries, seq 1 to ${v.lastSeq}; ${v.checkpoints} checkpoints, ${cp}; ${v.uncheckpointed} entries after it\n`,
        );
        if (v.ok) process.stdout.write('audit log OK: the chain and every checkpoint verify\n');
      }
      if (!v.ok) {
        const first = v.problems[0];
        process.stderr.write(
          `audit log verification FAILED${first?.seq ? ` at seq ${first.seq}` : ''}:\n`,
        );
        for (const p of v.problems)
          process.stderr.write(`  ${p.seq ? `seq ${p.seq}: ` : ''}${p.message}\n`);
        process.exitCode = 1;
      }
    }),
  );
}
