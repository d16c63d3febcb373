// A small terminal screen for replaying recordings: text into a fixed grid, with the ANSI sequences that shells and
// common tools emit (cursor moves, erase, SGR colours, alternate screen, OSC titles). Pure and incremental: feed()
// may receive a sequence split across events. Anything it does not know is consumed and ignored, never shown raw.
//
// A bare LF also returns the carriage: output recorded without a TTY has no CR, and it should still read as lines.
export interface Style {
  fg: number | null;
  bg: number | null;
  bold: boolean;
  inverse: boolean;
}

export interface Run {
  text: string;
  style: Style;
}

const PLAIN: Style = Object.freeze({ fg: null, bg: null, bold: false, inverse: false });
const sameStyle = (a: Style, b: Style) =>
  a.fg === b.fg && a.bg === b.bg && a.bold === b.bold && a.inverse === b.inverse;

interface Cell {
  ch: string;
  style: Style;
}

type ParseState = "text" | "esc" | "csi" | "osc" | "oscEsc" | "charset";

export class Screen {
  width: number;
  height: number;
  #rows: Cell[][];
  #x = 0;
  #y = 0;
  #saved = { x: 0, y: 0 };
  #style: Style = PLAIN;
  #state: ParseState = "text";
  #params = "";

  constructor(width = 80, height = 24) {
    this.width = Math.max(1, Math.min(width, 500));
    this.height = Math.max(1, Math.min(height, 200));
    this.#rows = Array.from({ length: this.height }, () => this.#blankRow());
  }

  #blankRow(): Cell[] {
    return Array.from({ length: this.width }, () => ({ ch: " ", style: PLAIN }));
  }

  resize(width: number, height: number): void {
    const w = Math.max(1, Math.min(width, 500));
    const h = Math.max(1, Math.min(height, 200));
    const rows = this.#rows.slice(Math.max(0, this.#rows.length - h));
    while (rows.length < h) rows.push([]);
    this.width = w;
    this.height = h;
    this.#rows = rows.map((r) => {
      const row = r.slice(0, w);
      while (row.length < w) row.push({ ch: " ", style: PLAIN });
      return row;
    });
    this.#x = Math.min(this.#x, w - 1);
    this.#y = Math.min(this.#y, h - 1);
  }

  feed(data: string): void {
    for (const ch of data) this.#char(ch);
  }

  #char(ch: string): void {
    switch (this.#state) {
      case "esc":
        this.#escape(ch);
        return;
      case "csi":
        if (/[0-9;?>!= ]/.test(ch)) {
          if (this.#params.length < 64) this.#params += ch;
          return;
        }
        this.#state = "text";
        this.#csi(ch, this.#params);
        return;
      case "osc":
        if (ch === "\x07") this.#state = "text";
        else if (ch === "\x1b") this.#state = "oscEsc";
        return;
      case "oscEsc":
        this.#state = ch === "\\" ? "text" : "osc";
        return;
      case "charset":
        this.#state = "text";
        return;
    }
    switch (ch) {
      case "\x1b":
        this.#state = "esc";
        return;
      case "\r":
        this.#x = 0;
        return;
      case "\n":
        this.#x = 0;
        this.#lineFeed();
        return;
      case "\b":
        this.#x = Math.max(0, this.#x - 1);
        return;
      case "\t":
        this.#x = Math.min(this.width - 1, (Math.floor(this.#x / 8) + 1) * 8);
        return;
    }
    if (ch < " " || ch === "\x7f") return;
    if (this.#x >= this.width) {
      this.#x = 0;
      this.#lineFeed();
    }
    const row = this.#rows[this.#y];
    if (row) row[this.#x] = { ch, style: this.#style };
    this.#x++;
  }

  #escape(ch: string): void {
    this.#state = "text";
    if (ch === "[") {
      this.#state = "csi";
      this.#params = "";
    } else if (ch === "]") this.#state = "osc";
    else if (ch === "(" || ch === ")") this.#state = "charset";
    else if (ch === "7") this.#saved = { x: this.#x, y: this.#y };
    else if (ch === "8") ({ x: this.#x, y: this.#y } = this.#saved);
    else if (ch === "M") {
      if (this.#y > 0) this.#y--;
      else this.#rows = [this.#blankRow(), ...this.#rows.slice(0, -1)];
    } else if (ch === "c") this.#clear();
  }

  #lineFeed(): void {
    if (this.#y < this.height - 1) this.#y++;
    else this.#rows = [...this.#rows.slice(1), this.#blankRow()];
  }

  #clear(): void {
    this.#rows = Array.from({ length: this.height }, () => this.#blankRow());
    this.#x = 0;
    this.#y = 0;
  }

  #erase(y: number, from: number, to: number): void {
    const row = this.#rows[y];
    if (!row) return;
    for (let x = Math.max(0, from); x < Math.min(this.width, to); x++) row[x] = { ch: " ", style: PLAIN };
  }

  #csi(final: string, raw: string): void {
    const priv = raw.startsWith("?");
    const nums = raw
      .replace(/^[?>!=]/, "")
      .split(";")
      .map((p) => (p === "" ? Number.NaN : Number.parseInt(p, 10)));
    const n = (i: number, def: number) => {
      const v = nums[i];
      return v === undefined || Number.isNaN(v) ? def : v;
    };
    const clampX = (x: number) => Math.max(0, Math.min(this.width - 1, x));
    const clampY = (y: number) => Math.max(0, Math.min(this.height - 1, y));
    switch (final) {
      case "A":
        this.#y = clampY(this.#y - n(0, 1));
        break;
      case "B":
        this.#y = clampY(this.#y + n(0, 1));
        break;
      case "C":
        this.#x = clampX(this.#x + n(0, 1));
        break;
      case "D":
        this.#x = clampX(this.#x - n(0, 1));
        break;
      case "G":
        this.#x = clampX(n(0, 1) - 1);
        break;
      case "d":
        this.#y = clampY(n(0, 1) - 1);
        break;
      case "H":
      case "f":
        this.#y = clampY(n(0, 1) - 1);
        this.#x = clampX(n(1, 1) - 1);
        break;
      case "J": {
        const mode = n(0, 0);
        if (mode === 2 || mode === 3) {
          for (let y = 0; y < this.height; y++) this.#erase(y, 0, this.width);
        } else if (mode === 0) {
          this.#erase(this.#y, this.#x, this.width);
          for (let y = this.#y + 1; y < this.height; y++) this.#erase(y, 0, this.width);
        } else {
          this.#erase(this.#y, 0, this.#x + 1);
          for (let y = 0; y < this.#y; y++) this.#erase(y, 0, this.width);
        }
        break;
      }
      case "K": {
        const mode = n(0, 0);
        if (mode === 0) this.#erase(this.#y, this.#x, this.width);
        else if (mode === 1) this.#erase(this.#y, 0, this.#x + 1);
        else this.#erase(this.#y, 0, this.width);
        break;
      }
      case "X":
        this.#erase(this.#y, this.#x, this.#x + n(0, 1));
        break;
      case "P": {
        const row = this.#rows[this.#y];
        if (!row) break;
        row.splice(this.#x, Math.min(n(0, 1), this.width - this.#x));
        while (row.length < this.width) row.push({ ch: " ", style: PLAIN });
        break;
      }
      case "@": {
        const row = this.#rows[this.#y];
        if (!row) break;
        const count = Math.min(n(0, 1), this.width - this.#x);
        row.splice(this.#x, 0, ...Array.from({ length: count }, () => ({ ch: " ", style: PLAIN })));
        row.length = this.width;
        break;
      }
      case "m":
        this.#sgr(nums.map((v) => (Number.isNaN(v) ? 0 : v)));
        break;
      case "h":
      case "l":
        // The alternate screen (full-screen programs) starts and ends on a clean grid.
        if (priv && (raw.includes("1049") || raw.includes("47"))) this.#clear();
        break;
      case "s":
        this.#saved = { x: this.#x, y: this.#y };
        break;
      case "u":
        ({ x: this.#x, y: this.#y } = this.#saved);
        break;
    }
  }

  #sgr(codes: number[]): void {
    let s: Style = { ...this.#style };
    for (let i = 0; i < codes.length; i++) {
      const c = codes[i] ?? 0;
      if (c === 0) s = { ...PLAIN };
      else if (c === 1) s.bold = true;
      else if (c === 22) s.bold = false;
      else if (c === 7) s.inverse = true;
      else if (c === 27) s.inverse = false;
      else if (c >= 30 && c <= 37) s.fg = c - 30;
      else if (c >= 90 && c <= 97) s.fg = c - 90 + 8;
      else if (c === 39) s.fg = null;
      else if (c >= 40 && c <= 47) s.bg = c - 40;
      else if (c >= 100 && c <= 107) s.bg = c - 100 + 8;
      else if (c === 49) s.bg = null;
      else if (c === 38 || c === 48) {
        // 256-colour (5;n) is kept when it is one of the 16 basic colours; truecolour is skipped.
        const mode = codes[i + 1];
        if (mode === 5) {
          const v = codes[i + 2] ?? 0;
          if (v < 16) s[c === 38 ? "fg" : "bg"] = v;
          i += 2;
        } else if (mode === 2) i += 4;
      }
    }
    this.#style = s;
  }

  /** The screen as runs of equally styled text, one array per row (trailing blanks trimmed). */
  runs(): Run[][] {
    return this.#rows.map((row) => {
      let end = row.length;
      while (end > 0 && row[end - 1]?.ch === " " && sameStyle(row[end - 1]?.style ?? PLAIN, PLAIN)) end--;
      const out: Run[] = [];
      for (const cell of row.slice(0, end)) {
        const last = out.at(-1);
        if (last && sameStyle(last.style, cell.style)) last.text += cell.ch;
        else out.push({ text: cell.ch, style: cell.style });
      }
      return out;
    });
  }

  /** Plain text of the screen, rows joined by newlines, trailing blank rows dropped. */
  text(): string {
    const lines = this.runs().map((r) => r.map((run) => run.text).join(""));
    while (lines.length && lines.at(-1) === "") lines.pop();
    return lines.join("\n");
  }

  cursor(): { x: number; y: number } {
    return { x: this.#x, y: this.#y };
  }
}
