// Per-item filtering of lists, Tables and watch events, for policy (src/policy/collections.ts decides; this file only
// finds the object each element stands for). The maskers in json-stream.ts and watch-stream.ts call it element by
// element, so filtering streams exactly as masking does and is the same single pass over the response.
//
// Fail closed: an element whose object cannot be found (a Table row without `object`, as includeObject=None sends,
// an event of an unknown type, a list that is neither a List nor a Table) throws a MaskingError, and the caller
// refuses the response or cuts the stream.
import { MaskingError } from "./json-stream.ts";

/** Decides whether the caller may see one object: false drops its element. */
export type ItemKeep = (obj: unknown) => boolean;

/** Thrown by an ItemKeep when the whole response must be refused (a single object the caller may not read). */
export class ItemRefused extends MaskingError {}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** The object a Table row stands for (includeObject=Metadata or Object); none → cannot be filtered. */
export function rowObject(row: unknown): unknown {
  if (!isObj(row) || !isObj(row.object)) {
    throw new MaskingError(
      "a Table row without its object (includeObject=None) cannot be filtered by policy",
    );
  }
  return row.object;
}

/** Whether a watch event may pass: BOOKMARK and ERROR carry no object of the collection; the others are decided. */
export function keepEvent(event: unknown, keep: ItemKeep): boolean {
  if (!isObj(event)) throw new MaskingError("a watch event is not a JSON object");
  if (event.type === "BOOKMARK" || event.type === "ERROR") return true;
  if (!["ADDED", "MODIFIED", "DELETED"].includes(String(event.type))) {
    throw new MaskingError(
      `a watch event of type ${JSON.stringify(event.type)} cannot be filtered by policy`,
    );
  }
  const obj = event.object;
  // With the Table Accept each event's object is a one-row Table.
  if (isObj(obj) && obj.kind === "Table" && Array.isArray(obj.rows))
    return obj.rows.every((r) => keep(rowObject(r)));
  return keep(obj);
}

/** Filters a whole decoded list or Table in place (the masker's fallback for documents it does not stream). */
export function filterDocument(doc: unknown, keep: ItemKeep): unknown {
  if (!isObj(doc))
    throw new MaskingError("a list response that is not a JSON object cannot be filtered by policy");
  if (doc.kind === "Status") return doc;
  if (doc.kind === "Table" && Array.isArray(doc.rows)) {
    doc.rows = doc.rows.filter((r) => keep(rowObject(r)));
  } else if (typeof doc.kind === "string" && doc.kind.endsWith("List") && Array.isArray(doc.items)) {
    doc.items = doc.items.filter((item) => keep(item));
  } else if (isObj(doc.metadata)) {
    // One object (a GET by name): it is the item.
    if (!keep(doc)) throw new ItemRefused("the object is not allowed by policy");
    return doc;
  } else {
    throw new MaskingError(
      "a response that is neither an object, a List nor a Table cannot be filtered by policy",
    );
  }
  dropRemainingCount(doc);
  return doc;
}

/** A filtered page must not tell how many items the caller was not shown. */
export function dropRemainingCount(head: Obj): void {
  if (isObj(head.metadata)) delete head.metadata.remainingItemCount;
}
