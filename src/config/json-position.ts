/**
 * Where a JSON text first goes wrong. `JSON.parse` in Node 20 names a position for some errors
 * only ("Unexpected token '}', ... is not valid JSON" has none), so on failure we re-scan the
 * text with this small recognizer of the JSON grammar (RFC 8259) to point at line and column.
 */

/** 1-based line and column of a character offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}

const WS = new Set([' ', '\t', '\n', '\r']);

/** Offset of the first character that makes `text` invalid JSON, or undefined if it is valid. */
export function jsonErrorOffset(text: string): number | undefined {
  let i = 0;
  const fail = (): never => {
    throw i;
  };
  const ws = (): void => {
    while (i < text.length && WS.has(text.charAt(i))) i++;
  };
  const eat = (s: string): void => {
    if (text.startsWith(s, i)) i += s.length;
    else fail();
  };
  const digits = (): void => {
    if (!/[0-9]/.test(text.charAt(i))) fail();
    while (/[0-9]/.test(text.charAt(i))) i++;
  };
  const number = (): void => {
    if (text.charAt(i) === '-') i++;
    if (text.charAt(i) === '0') i++;
    else digits();
    if (text.charAt(i) === '.') {
      i++;
      digits();
    }
    if (/[eE]/.test(text.charAt(i))) {
      i++;
      if (/[+-]/.test(text.charAt(i))) i++;
      digits();
    }
  };
  const string = (): void => {
    eat('"');
    for (;;) {
      if (i >= text.length) fail();
      const c = text.charAt(i);
      if (c === '"') {
        i++;
        return;
      }
      if (c < ' ') fail();
      if (c === '\\') {
        i++;
        const e = text.charAt(i);
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) fail();
          i += 5;
        } else if ('"\\/bfnrt'.includes(e) && e !== '') i++;
        else fail();
      } else i++;
    }
  };
  const value = (): void => {
    ws();
    const c = text.charAt(i);
    if (c === '{') {
      i++;
      ws();
      if (text.charAt(i) === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        string();
        ws();
        eat(':');
        value();
        ws();
        if (text.charAt(i) === '}') {
          i++;
          return;
        }
        eat(',');
      }
    } else if (c === '[') {
      i++;
      ws();
      if (text.charAt(i) === ']') {
        i++;
        return;
      }
      for (;;) {
        value();
        ws();
        if (text.charAt(i) === ']') {
          i++;
          return;
        }
        eat(',');
      }
    } else if (c === '"') string();
    else if (c === 't') eat('true');
    else if (c === 'f') eat('false');
    else if (c === 'n') eat('null');
    else if (c === '-' || /[0-9]/.test(c)) number();
    else fail();
  };
  try {
    value();
    ws();
    return i < text.length ? i : undefined;
  } catch (offset) {
    if (typeof offset === 'number') return offset;
    throw offset;
  }
}
