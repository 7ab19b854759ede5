/**
 * Secrets at rest: AES-256-GCM through WebCrypto (same code on Node, Deno and Workers).
 * Stored form: "v1:" + base64(iv) + ":" + base64(ciphertext+tag). The namespace/name is bound
 * as additional data, so a ciphertext copied onto another secret's row does not decrypt.
 */
const keys = new Map<string, Promise<CryptoKey>>();

function importKey(base64Key: string): Promise<CryptoKey> {
  let key = keys.get(base64Key);
  if (!key) {
    const raw = Uint8Array.from(atob(base64Key), (ch) => ch.charCodeAt(0));
    key = crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt']);
    keys.set(base64Key, key);
  }
  return key;
}

const toBase64 = (buf: Uint8Array) => btoa(String.fromCharCode(...buf));
const fromBase64 = (s: string) => Uint8Array.from(atob(s), (ch) => ch.charCodeAt(0));

export async function sealSecret(
  base64Key: string,
  binding: string,
  data: Record<string, string>,
): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const plain = new TextEncoder().encode(JSON.stringify(data));
  const sealed = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: new TextEncoder().encode(binding) },
    await importKey(base64Key),
    plain,
  );
  return `v1:${toBase64(iv)}:${toBase64(new Uint8Array(sealed))}`;
}

export async function openSecret(
  base64Key: string,
  binding: string,
  stored: string,
): Promise<Record<string, string>> {
  const [version, iv, body] = stored.split(':');
  if (version !== 'v1' || !iv || !body) throw new Error('unknown secret format');
  const plain = await crypto.subtle.decrypt(
    { name: 'AES-GCM', iv: fromBase64(iv), additionalData: new TextEncoder().encode(binding) },
    await importKey(base64Key),
    fromBase64(body),
  );
  return JSON.parse(new TextDecoder().decode(plain)) as Record<string, string>;
}
