import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The repository root: what `/app` in the image mirrors (see deploy/Dockerfile). */
export const REPO_ROOT = path.resolve(here, '../../../..');
export const DOCKERFILE = path.join(REPO_ROOT, 'deploy/Dockerfile');
export const KUBERNETES_DIR = path.join(REPO_ROOT, 'deploy/kubernetes');

export interface DockerInstruction {
  keyword: string;
  args: string;
  line: number;
}

export interface DockerStage {
  image: string;
  name?: string;
  instructions: DockerInstruction[];
}

/**
 * Splits a Dockerfile into stages and instructions the way the builder reads it: comment
 * lines dropped (also inside a continued instruction), a trailing backslash continues.
 */
export function parseDockerfile(text: string): DockerStage[] {
  const stages: DockerStage[] = [];
  let pending = '';
  let startLine = 0;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const trimmed = raw.trim();
    if (trimmed.startsWith('#') || (!pending && !trimmed)) continue;
    if (!pending) startLine = i + 1;
    if (trimmed.endsWith('\\')) {
      pending += trimmed.slice(0, -1) + ' ';
      continue;
    }
    const full = (pending + trimmed).trim();
    pending = '';
    if (!full) continue;
    const m = /^(\S+)\s*(.*)$/s.exec(full)!;
    const keyword = m[1]!.toUpperCase();
    const args = m[2]!.replace(/\s+/g, ' ').trim();
    if (keyword === 'FROM') {
      const from = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      if (!from) throw new Error(`line ${startLine}: cannot read FROM ${args}`);
      stages.push({ image: from[1]!, name: from[2], instructions: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) throw new Error(`line ${startLine}: ${keyword} before FROM`);
    stage.instructions.push({ keyword, args, line: startLine });
  }
  if (pending) throw new Error('the Dockerfile ends inside a continued instruction');
  return stages;
}

export function readDockerfile(): DockerStage[] {
  return parseDockerfile(readFileSync(DOCKERFILE, 'utf8'));
}

/** The exec (JSON array) form of an instruction's arguments; throws for the shell form. */
export function execForm(args: string): string[] {
  const value: unknown = JSON.parse(args);
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw new Error(`not an exec-form array: ${args}`);
  }
  return value as string[];
}

export function instructions(stage: DockerStage, keyword: string): DockerInstruction[] {
  return stage.instructions.filter((i) => i.keyword === keyword);
}

/** The last instance of an instruction in a stage (the one in force), if any. */
export function last(stage: DockerStage, keyword: string): DockerInstruction | undefined {
  return instructions(stage, keyword).at(-1);
}

/** ENV variables a stage sets (`ENV a=1 b=2` and the legacy `ENV a 1`). */
export function envOf(stage: DockerStage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { args } of instructions(stage, 'ENV')) {
    if (!args.includes('=')) {
      const [k, ...rest] = args.split(' ');
      env[k!] = rest.join(' ');
      continue;
    }
    for (const pair of args.split(' ')) {
      const eq = pair.indexOf('=');
      if (eq <= 0) throw new Error(`cannot read ENV ${args}`);
      env[pair.slice(0, eq)] = pair.slice(eq + 1).replace(/^"(.*)"$/, '$1');
    }
  }
  return env;
}

/** The paths a stage declares as volumes. */
export function volumesOf(stage: DockerStage): string[] {
  return instructions(stage, 'VOLUME').flatMap(({ args }) =>
    args.startsWith('[') ? execForm(args) : args.split(' '),
  );
}

/** Where a path inside the image comes from in the repository: /app mirrors the repo root. */
export function repoPathOfImagePath(imagePath: string): string {
  if (!imagePath.startsWith('/app/')) throw new Error(`${imagePath} is not under /app`);
  return path.join(REPO_ROOT, imagePath.slice('/app/'.length));
}
