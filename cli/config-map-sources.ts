import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { UsageError } from './exit-codes.ts';

/**
 * `berth create configmap`'s `--from-literal KEY=VALUE` and `--from-file [KEY=]PATH` as kubectl
 * reads them: a file's key is its base name unless given; a directory gives one key per regular
 * file in it; bytes that are not UTF-8 go to binaryData (base64), as kubectl puts them.
 */

export interface ConfigMapContent {
  data: Record<string, string>;
  binaryData: Record<string, string>;
}

const KEY = /^[-._a-zA-Z0-9]+$/;

function checkKey(key: string, from: string): void {
  if (!KEY.test(key) || key.length > 253)
    throw new UsageError(`"${key}" (from ${from}) is not a valid key: letters, digits, "-", "_" or "." only`);
}

export async function configMapContent(
  literals: readonly string[],
  files: readonly string[],
  cwd: string,
): Promise<ConfigMapContent> {
  const out: ConfigMapContent = { data: {}, binaryData: {} };
  const add = (key: string, bytes: Uint8Array | string, from: string) => {
    checkKey(key, from);
    if (Object.hasOwn(out.data, key) || Object.hasOwn(out.binaryData, key))
      throw new UsageError(`key "${key}" is given twice (again by ${from})`);
    if (typeof bytes === 'string') {
      out.data[key] = bytes;
      return;
    }
    try {
      out.data[key] = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
    } catch {
      out.binaryData[key] = Buffer.from(bytes).toString('base64');
    }
  };
  for (const literal of literals) {
    const eq = literal.indexOf('=');
    if (eq <= 0) throw new UsageError(`--from-literal takes KEY=VALUE, got "${literal}"`);
    add(literal.slice(0, eq), literal.slice(eq + 1), `--from-literal ${literal.slice(0, eq)}`);
  }
  for (const source of files) {
    const eq = source.indexOf('=');
    const key = eq > 0 ? source.slice(0, eq) : undefined;
    const path = resolve(cwd, eq > 0 ? source.slice(eq + 1) : source);
    const info = await stat(path).catch(() => {
      throw new UsageError(`--from-file ${source}: no such file or directory`);
    });
    if (info.isDirectory()) {
      if (key) throw new UsageError(`--from-file ${source}: a key cannot name a directory`);
      for (const entry of (await readdir(path, { withFileTypes: true })).sort((a, b) =>
        a.name.localeCompare(b.name),
      )) {
        if (entry.isFile())
          add(entry.name, await readFile(resolve(path, entry.name)), `--from-file ${source}`);
      }
    } else {
      add(key ?? basename(path), await readFile(path), `--from-file ${source}`);
    }
  }
  return out;
}
