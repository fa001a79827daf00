// Series colours: one of its own for each series, however many there are.

// Okabe-Ito: tellable apart with common colour-vision deficiencies.
export const PALETTE = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00",
  "#7a6a00", "#000000", "#6a3d9a", "#b15928"];

const GOLDEN_ANGLE = 137.508;

// Past the palette, hues a golden angle apart never repeat; lightness alternates for contrast.
function generated(i) {
  const hue = (i * GOLDEN_ANGLE) % 360;
  const light = i % 2 ? 34 : 48;
  return { stroke: `hsl(${hue.toFixed(1)} 70% ${light}%)`, fill: `hsl(${hue.toFixed(1)} 70% ${light}% / 60%)` };
}

/** n distinct {stroke, fill} pairs: the palette when it is enough, generated hues when not. */
export function seriesColours(n) {
  if (n <= PALETTE.length) return PALETTE.slice(0, n).map((c) => ({ stroke: c, fill: `${c}99` }));
  return Array.from({ length: n }, (_, i) => generated(i));
}
