/**
 * `$(VAR)` references in env values, `command` and `args`, exactly as Kubernetes expands them
 * (its third_party/forked/golang/expansion): `$(NAME)` becomes the variable's value when it is
 * defined and stays as written when not; `$$` is a literal `$` (so `$$(NAME)` is the text
 * `$(NAME)`); a `$` before anything else, or an unclosed `$(`, stays as it is. Pure.
 */
export function expandVariables(input: string, lookup: (name: string) => string | undefined): string {
  let out = '';
  let checkpoint = 0;
  for (let cursor = 0; cursor < input.length; cursor++) {
    if (input[cursor] !== '$' || cursor + 1 >= input.length) continue;
    out += input.slice(checkpoint, cursor);
    const next = input[cursor + 1];
    let advance = 1;
    if (next === '$') out += '$';
    else if (next === '(') {
      const close = input.indexOf(')', cursor + 2);
      if (close < 0) out += '$(';
      else {
        const name = input.slice(cursor + 2, close);
        out += lookup(name) ?? `$(${name})`;
        advance = close - cursor;
      }
    } else out += `$${next}`;
    cursor += advance;
    checkpoint = cursor + 1;
  }
  return out + input.slice(checkpoint);
}
