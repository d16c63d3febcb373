// The hostile text class of issue 14, shared by the tests of every human surface (CLI, session play, webhooks, MCP,
// console): what a clever agent puts in a name, a body, a justification, argv or a client header.

/** The hostile character class, by name: what a clever agent puts in a name, a body, a justification or argv. */
export const HOSTILE: [string, string][] = [
  ["ESC (CSI erase line, cursor up)", "\x1b[2K\x1b[1A"],
  ["one-byte CSI U+009B", "\u009b2K"],
  ["C1 NEL U+0085", "\u0085"],
  ["OSC 52 clipboard write", "\x1b]52;c;ZWNobyBoaQ==\x07"],
  ["BEL", "\x07"],
  ["NUL", "\0"],
  ["backspace", "\b\b\b"],
  ["DEL", "\x7f"],
  ["CR (return to line start)", "\rCommand: cat /etc/hostname"],
  ["RLO U+202E", "\u202e"],
  ["LRE U+202A", "\u202a"],
  ["PDF U+202C", "\u202c"],
  ["RLI U+2067", "\u2067"],
  ["PDI U+2069", "\u2069"],
  ["LRM U+200E", "\u200e"],
  ["RLM U+200F", "\u200f"],
  ["ALM U+061C", "\u061c"],
  ["zero-width space U+200B", "\u200b"],
  ["zero-width joiner U+200D", "\u200d"],
  ["word joiner U+2060", "\u2060"],
  ["invisible separator U+2063", "\u2063"],
  ["BOM U+FEFF", "\ufeff"],
  ["soft hyphen U+00AD", "\u00ad"],
  ["Mongolian vowel separator U+180E", "\u180e"],
  ["tag latin small a U+E0061", "\u{e0061}"],
  ["variation selector U+FE0F", "\ufe0f"],
  ["variation selector supplement U+E0100", "\u{e0100}"],
  ["Hangul filler U+3164", "\u3164"],
  ["line separator U+2028", "\u2028"],
  ["paragraph separator U+2029", "\u2029"],
  ["no-break space U+00A0", "\u00a0"],
  ["lone high surrogate", "\ud800"],
  ["lone low surrogate", "\udc00"],
  ["private use U+E000", "\ue000"],
];

/** All of HOSTILE in one string, between words, so a test can feed a surface the whole class at once. */
export const HOSTILE_ALL = HOSTILE.map(([, t]) => `w${t}`).join("");

/** What must never reach a human surface raw: controls, invisible format characters, separators, lone surrogates. */
export const RAW_HOSTILE =
  /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Co}\p{Default_Ignorable_Code_Point}\p{Variation_Selector}\u00a0]/u;
