/**
 * rrdStrtod parses a number exactly as rrdtool 1.7's rrd_strtod does: digits accumulated
 * into a double, then scaled by powers of ten one factor at a time. It is not correctly
 * rounded (Number() is), and timestamps like 1600970203.737 come out a microsecond apart,
 * so remon parses what rrdtool parses the way rrdtool does. Returns NaN for text that is
 * not entirely a number (rrdtool's nan/inf spellings included).
 */
export function rrdStrtod(text: string): number {
  let p = 0;
  while (p < text.length && /\s/.test(text[p])) p++;
  const special = /^(-?)(nan|inf)$/i.exec(text.slice(p));
  if (special) return special[2].toLowerCase() === 'nan' ? NaN : special[1] ? -Infinity : Infinity;
  let negative = false;
  if (text[p] === '-' || text[p] === '+') negative = text[p++] === '-';
  let number = 0;
  let exponent = 0;
  let digits = 0;
  const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
  while (isDigit(text[p])) {
    number = number * 10 + (text.charCodeAt(p++) - 48);
    digits++;
  }
  if (text[p] === '.') {
    p++;
    let decimals = 0;
    while (isDigit(text[p])) {
      number = number * 10 + (text.charCodeAt(p++) - 48);
      digits++;
      decimals++;
    }
    exponent -= decimals;
  }
  if (digits === 0) return NaN;
  if (negative) number = -number;
  if (text[p] === 'e' || text[p] === 'E') {
    p++;
    let negExp = false;
    if (text[p] === '-' || text[p] === '+') negExp = text[p++] === '-';
    let n = 0;
    while (isDigit(text[p])) n = n * 10 + (text.charCodeAt(p++) - 48);
    exponent += negExp ? -n : n;
  }
  if (p !== text.length) return NaN;
  if (exponent < -1021 || exponent > 1024) return Infinity;
  let p10 = 10;
  let n = Math.abs(exponent);
  while (n) {
    if (n & 1) number = exponent < 0 ? number / p10 : number * p10;
    n >>= 1;
    p10 *= p10;
  }
  return number;
}
