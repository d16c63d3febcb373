// The terminal player: plays an asciicast in a styled grid with play/pause, seek and speed. Keyboard: space plays or
// pauses, ←/→ seek 5 s, Home goes to the start. Seeking rebuilds the screen from the start (recordings are small).
import { type KeyboardEvent, useEffect, useMemo, useRef, useState } from "react";
import { renderInline } from "../../../src/shared/render.ts";
import { type Cast, eventsUntil } from "../lib/asciicast.ts";
import { Screen } from "../lib/terminal.ts";

function render(cast: Cast, count: number): Screen {
  const screen = new Screen(cast.header.width, cast.header.height);
  for (const e of cast.output.slice(0, count)) {
    if (e.type === "r") {
      const [w, h] = e.data.split("x").map(Number);
      if (w && h) screen.resize(w, h);
    } else screen.feed(e.data);
  }
  return screen;
}

const fmt = (s: number) => `${Math.floor(s / 60)}:${(s % 60).toFixed(1).padStart(4, "0")}`;

export function Player({ cast }: { cast: Cast }) {
  const [time, setTime] = useState(0);
  const [playing, setPlaying] = useState(false);
  const [speed, setSpeed] = useState(1);
  const last = useRef<number | undefined>(undefined);
  const count = eventsUntil(cast.output, time);
  const screen = useMemo(() => render(cast, count), [cast, count]);
  const done = time >= cast.duration;
  // The seek bar's end, on its 0.01 s step grid: a range input clamps to the last step at or below its max, so a max
  // of the exact duration could never reach the last events (those within 10 ms of the end).
  const end = Math.ceil(cast.duration * 100) / 100;

  useEffect(() => {
    if (!playing) return;
    last.current = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      const dt = ((now - (last.current ?? now)) / 1000) * speed;
      last.current = now;
      setTime((t) => {
        const next = Math.min(cast.duration, t + dt);
        if (next >= cast.duration) setPlaying(false);
        return next;
      });
    }, 50);
    return () => clearInterval(timer);
  }, [playing, speed, cast.duration]);

  const toggle = () => {
    if (done) setTime(0);
    setPlaying(!playing || done);
  };
  const onKey = (e: KeyboardEvent) => {
    if (e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement) return;
    if (e.key === " ") toggle();
    else if (e.key === "ArrowRight") setTime((t) => Math.min(cast.duration, t + 5));
    else if (e.key === "ArrowLeft") setTime((t) => Math.max(0, t - 5));
    else if (e.key === "Home") setTime(0);
    else return;
    e.preventDefault();
  };
  const typed = cast.input
    .filter((e) => e.time <= time)
    .map((e) => e.data)
    .join("");

  return (
    // The player is one widget: focused, it takes space and the arrow keys (role application passes them through).
    <div
      className="player"
      role="application"
      // biome-ignore lint/a11y/noNoninteractiveTabindex: the player must be focusable to take its shortcuts
      tabIndex={0}
      onKeyDown={onKey}
      aria-label="Terminal recording player"
    >
      <pre className="terminal" data-testid="terminal" style={{ width: `${screen.width + 2}ch` }}>
        {screen.runs().map((row, y) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: rows are screen lines
          <div key={y} className="row">
            {row.map((run, i) => (
              <span
                // biome-ignore lint/suspicious/noArrayIndexKey: runs are positional
                key={i}
                className={[
                  run.style.fg !== null ? `fg${run.style.fg}` : "",
                  run.style.bg !== null ? `bg${run.style.bg}` : "",
                  run.style.bold ? "bold" : "",
                  run.style.inverse ? "inverse" : "",
                ].join(" ")}
              >
                {/* bidi and invisible characters in the output: markers, never applied (issue 14) */}
                {renderInline(run.text)}
              </span>
            ))}
            {"\n"}
          </div>
        ))}
      </pre>
      <div className="controls">
        <button type="button" onClick={toggle} aria-label={playing ? "Pause" : "Play"}>
          {playing ? "❚❚ Pause" : "▶ Play"}
        </button>
        <input
          type="range"
          min={0}
          max={end}
          step={0.01}
          value={time}
          aria-label="Seek"
          onChange={(e) => setTime(Math.min(cast.duration, Number(e.target.value)))}
        />
        <span className="muted" data-testid="player-time">
          {fmt(time)} / {fmt(cast.duration)}
        </span>
        <label>
          Speed{" "}
          <select value={speed} onChange={(e) => setSpeed(Number(e.target.value))} aria-label="Speed">
            {[0.5, 1, 2, 4, 8].map((s) => (
              <option key={s} value={s}>
                {s}×
              </option>
            ))}
          </select>
        </label>
        {cast.exit && <span className="muted">{cast.exit}</span>}
      </div>
      {typed && (
        <div className="muted">
          Typed or piped so far (one line per line sent):
          <pre className="untrusted-block" data-testid="typed">
            {typed
              .split(/\r\n|\r|\n/)
              .filter((line, i, all) => line !== "" || i < all.length - 1)
              .map((line) => `⟩ ${renderInline(line, { max: 2000 })}`)
              .join("\n")}
          </pre>
        </div>
      )}
    </div>
  );
}
