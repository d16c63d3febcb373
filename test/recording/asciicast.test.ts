import assert from "node:assert/strict";
import { test } from "node:test";
import {
  checkAsciicast,
  eventLine,
  headerLine,
  parseAsciicast,
  playbackSchedule,
} from "../../src/recording/asciicast.ts";

const header = headerLine({ version: 2, width: 80, height: 24, timestamp: 1_700_000_000, title: "t" });

test("a torn last line is dropped by the reader and everything before it is kept", () => {
  const text = `${header}${eventLine(0.1, "o", "a")}${eventLine(0.2, "o", "b")}[0.3,"o","c`;
  const parsed = parseAsciicast(text);
  assert.equal(parsed.torn, true);
  assert.equal(parsed.header?.width, 80);
  assert.deepEqual(
    parsed.events.map(([, , d]) => d),
    ["a", "b"],
  );
  assert.ok(checkAsciicast(text).length > 0, "the strict check refuses the torn file");
  assert.deepEqual(checkAsciicast(text.slice(0, text.lastIndexOf("\n") + 1)), []);
});

test("the format check names each problem: no version, bad size, time going back, unknown type, bad resize", () => {
  const cases: [string, RegExp][] = [
    ['{"version":1,"width":80,"height":24}\n', /no version 2/],
    ['{"version":2,"width":0,"height":24}\n', /width is not a positive integer/],
    [`${header}[1.0,"o","a"]\n[0.5,"o","b"]\n`, /line 3: time 0.5 goes back/],
    [`${header}[1.0,"x","a"]\n`, /line 2: not a \[time/],
    [`${header}[1.0,"r","80-24"]\n`, /resize "80-24" is not WxH/],
    [`${header}not json\n`, /line 2: not JSON/],
  ];
  for (const [text, problem] of cases) assert.match(checkAsciicast(text).join("; "), problem, text);
});

test("event lines escape control characters and keep microsecond times", () => {
  const line = eventLine(1.2345678, "o", 'a"\r\n\u001b[0m');
  assert.equal(line, '[1.234568,"o","a\\"\\r\\n\\u001b[0m"]\n');
  assert.deepEqual(JSON.parse(line), [1.234568, "o", 'a"\r\n\u001b[0m']);
});

test("playback follows the output's timing, divided by speed, with idle pauses cut to the limit", () => {
  const steps = playbackSchedule(
    [
      [0.5, "o", "a"],
      [0.6, "i", "typed"],
      [1.0, "o", "b"],
      [11.0, "o", "c"],
      [11.0, "m", "exit 0"],
    ],
    2,
    2,
  );
  assert.deepEqual(steps, [
    { delayMs: 250, data: "a" },
    { delayMs: 250, data: "b" },
    { delayMs: 1000, data: "c" },
  ]);
});
