// The SPDY/3 header-compression dictionary (draft-mbelshe-httpbis-spdy-00, "Compression"): 65 header words, each
// with a 4-byte big-endian length in front, then one run of status lines, dates and media types. Both ends of a
// session preset their zlib window with it, so it must be byte-exact: 1423 bytes with Adler-32 0xe3c6a7c2, the DICTID
// kubectl's zlib header names (pinned by test/sim/spdy.test.ts).

const WORDS =
  "options head post put delete trace accept accept-charset accept-encoding accept-language accept-ranges age " +
  "allow authorization cache-control connection content-base content-encoding content-language content-length " +
  "content-location content-md5 content-range content-type date etag expect expires from host if-match " +
  "if-modified-since if-none-match if-range if-unmodified-since last-modified location max-forwards pragma " +
  "proxy-authenticate proxy-authorization range referer retry-after server te trailer transfer-encoding upgrade " +
  "user-agent vary via warning www-authenticate method get status 200_OK version HTTP/1.1 url public set-cookie " +
  "keep-alive origin";

const TEXT =
  "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505" +
  "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized" +
  "403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable" +
  "Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT" +
  "chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain," +
  "text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.";

function build(): Buffer {
  const parts: Buffer[] = [];
  for (const word of WORDS.split(" ")) {
    const bytes = Buffer.from(word.replace("_", " "), "latin1"); // "200_OK" is the one word with a space
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    parts.push(length, bytes);
  }
  parts.push(Buffer.from(TEXT, "latin1"));
  return Buffer.concat(parts);
}

export const DICTIONARY: Buffer = build();
