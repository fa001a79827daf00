// Exact numbers: the API writes sums with every digit, past what a double holds (2^53).

// More significant digits than this may not survive a double, so they are kept as text.
const DOUBLE_DIGITS = 15;

/** A JSON number kept as its text; reads as a Number in arithmetic, writes back as written. */
export class Exact {
  constructor(text) {
    this.text = text;
  }

  toString() {
    return this.text;
  }

  valueOf() {
    return Number(this.text);
  }

  toJSON() {
    return JSON.rawJSON(this.text);
  }
}

function significantDigits(source) {
  return source.replace(/[eE].*$/, "").replace(/[-.]/g, "").replace(/^0+/, "").length;
}

function keepDigits(key, value, context) {
  if (typeof value !== "number" || !context || !context.source) return value;
  return significantDigits(context.source) > DOUBLE_DIGITS ? new Exact(context.source) : value;
}

// JSON.parse, with long numbers as Exact (the reviver sees each number's source text).
export function parseJson(text) {
  return JSON.parse(text, keepDigits);
}

// A number's exact decimal text, or null when it has none (null, or text that is no number).
export function exactText(value) {
  if (value === null || value === undefined) return null;
  const text = String(value);
  return /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(text) ? text : null;
}

// value * 10^scale as a BigInt, for plain decimal text with at most `scale` decimals.
function scaled(text, scale) {
  const [whole, fraction = ""] = text.split(".");
  const sign = whole.startsWith("-") ? -1n : 1n;
  return sign * BigInt(`${whole.replace("-", "")}${fraction.padEnd(scale, "0")}`);
}

function unscaled(n, scale) {
  const sign = n < 0n ? "-" : "";
  const digits = (n < 0n ? -n : n).toString().padStart(scale + 1, "0");
  if (!scale) return `${sign}${digits}`;
  const fraction = digits.slice(-scale).replace(/0+$/, "");
  return `${sign}${digits.slice(0, -scale)}${fraction ? `.${fraction}` : ""}`;
}

// The exact sum of numbers (nulls count as 0), as decimal text; a double when one is in
// exponent form (a float from an average, say, where exact digits mean nothing).
export function sumExact(values) {
  const texts = values.map(exactText).filter((t) => t !== null);
  if (texts.some((t) => /[eE]/.test(t))) return String(texts.reduce((a, t) => a + Number(t), 0));
  const scale = Math.max(0, ...texts.map((t) => (t.split(".")[1] || "").length));
  return unscaled(texts.reduce((a, t) => a + scaled(t, scale), 0n), scale);
}
