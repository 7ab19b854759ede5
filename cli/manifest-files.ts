import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join, relative, resolve, sep } from 'node:path';
import { ManifestSyntaxError, parseManifestText } from '../common/manifest.ts';
import { CliError, EXIT, UsageError } from './exit-codes.ts';
import type { Io } from './io.ts';

/**
 * Reading `-f` arguments (the CLI) and the `manifests` input (the Action): files, directories
 * (their .yaml/.yml/.json files, sorted), `-` for standard input, and globs (`deploy/*.yaml`;
 * `**` spans directories). Every file is parsed here first, so a syntax error names the file and line
 * before anything is sent.
 */

export interface ManifestFile {
  /** As the user would recognise it: the path relative to the working directory, or "<stdin>". */
  source: string;
  text: string;
  format: 'yaml' | 'json';
  /** The parsed documents (empty ones dropped), in order. */
  docs: unknown[];
}

const MANIFEST_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

export async function readManifests(paths: string[], io: Io): Promise<ManifestFile[]> {
  if (paths.length === 0) throw new UsageError('no manifests given (use -f FILE, DIR or -)');
  const files: ManifestFile[] = [];
  for (const path of paths) {
    if (path === '-') {
      files.push(parseFile('<stdin>', await io.readStdin()));
      continue;
    }
    for (const file of await expand(path, io.cwd)) {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (err) {
        throw new UsageError(`cannot read ${path}: ${(err as Error).message}`);
      }
      const rel = relative(io.cwd, file);
      files.push(parseFile(rel && !rel.startsWith('..') ? rel : file, text));
    }
  }
  if (files.every((f) => f.docs.length === 0)) throw new UsageError('the manifests hold no documents');
  return files;
}

function parseFile(source: string, text: string): ManifestFile {
  const format = source.endsWith('.json') ? 'json' : 'yaml';
  try {
    return { source, text, format, docs: text.trim() ? parseManifestText(text, format) : [] };
  } catch (err) {
    if (err instanceof ManifestSyntaxError) {
      const where = err.line ? `${source}:${err.line}` : source;
      throw new CliError(`${where}: ${err.message}`, EXIT.INVALID);
    }
    throw err;
  }
}

async function expand(path: string, cwd: string): Promise<string[]> {
  if (/[*?[]/.test(path)) {
    const matches = await glob(path, cwd);
    if (matches.length === 0) throw new UsageError(`no files match ${path}`);
    return matches;
  }
  const full = resolve(cwd, path);
  const info = await stat(full).catch(() => undefined);
  if (!info) throw new UsageError(`${path} does not exist`);
  if (!info.isDirectory()) return [full];
  const names = (await readdir(full)).filter((n) => MANIFEST_EXTENSIONS.has(extname(n))).sort();
  return names.map((n) => join(full, n));
}

/** Minimal globbing (Node 20 has no fs.glob): `*`, `?`, `[abc]` within a segment, `**` across them. */
export async function glob(pattern: string, cwd: string): Promise<string[]> {
  const absolute = resolve(cwd, pattern);
  const segments = absolute.split(sep);
  const firstWild = segments.findIndex((s) => /[*?[]/.test(s));
  const root = segments.slice(0, firstWild).join(sep) || sep;
  const matcher = globRegExp(segments.slice(firstWild).join('/'));
  const found: string[] = [];
  const walk = async (dir: string, rel: string) => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      if (entry.name === 'node_modules' || entry.name === '.git') continue;
      const childRel = rel ? `${rel}/${entry.name}` : entry.name;
      const child = join(dir, entry.name);
      if (entry.isDirectory()) await walk(child, childRel);
      else if (matcher.test(childRel)) found.push(child);
    }
  };
  await walk(root, '');
  return found.sort();
}

export function globRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*' && pattern[i + 1] === '*') {
      // "**/" matches zero or more directories; a trailing "**" matches everything below.
      if (pattern[i + 2] === '/') {
        re += '(?:.*/)?';
        i += 2;
      } else {
        re += '.*';
        i += 1;
      }
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end < 0) re += '\\[';
      else {
        re += `[${pattern
          .slice(i + 1, end)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}
