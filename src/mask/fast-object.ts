// The fast path for list items: masks one JSON object as bytes, without JSON.parse or JSON.stringify. It reads the
// item (byte-reader.ts checks the grammar), applies maskObject's rules at each value, and emits the input's own
// bytes with only the masked values replaced — most of an item is sliced through untouched.
//
// Equivalence with maskObject is the contract (test/mask/fast-object.test.ts compares the two with a secret planted
// in every field position); fast-walk.ts has the generic walk and says when a string is decoded.
//
// Fail safe: anything unusual — `kind` not first (a later `kind` could change which rules apply), a nested List or
// Table, non-string Secret values, ConfigMap binaryData, bad JSON, deep nesting, the end of the buffer — declines,
// and the caller takes the slow path (which is the authority and fails closed on bad JSON). Subtrees whose rules
// need their siblings (env lists, secret references, managedFields) are decoded alone and masked by the slow path.
import { DECLINED, OPEN_ARR, OPEN_OBJ, QUOTE } from "./byte-reader.ts";
import { addCount } from "./counts.ts";
import { REFERENCE_KEYS, ValueMasker } from "./fast-walk.ts";
import {
  CREDENTIAL_KINDS,
  type MaskContext,
  maskLastApplied,
  maskManagedFields,
  strengthOf,
} from "./object.ts";

const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";

export interface MaskedItem {
  /** The masked item: slices of the input and replacement values, in order. */
  parts: Buffer[];
  /** Where the item ended in the input. */
  end: number;
}

/**
 * Masks the JSON object that starts at `start` in `bytes` (a list item), or returns undefined when it must take the
 * slow path (including when it does not end inside `bytes`). Counts reach ctx.counts only when it succeeds.
 */
export function maskItemAt(
  bytes: Buffer,
  start: number,
  ctx: MaskContext,
  kindHint: string | undefined,
): MaskedItem | undefined {
  return run(new ItemMasker(bytes, start, ctx), ctx, (m) => m.item(kindHint));
}

/** The same for one watch event (maskWatchEvent): `object` masked as an item of kindHint, other members as objects. */
export function maskEventAt(
  bytes: Buffer,
  start: number,
  ctx: MaskContext,
  kindHint: string | undefined,
): MaskedItem | undefined {
  return run(new ItemMasker(bytes, start, ctx), ctx, (m) => m.event(kindHint));
}

/** The same for one Table row (maskTableRow): cells searched (the Name cell of Secrets marked when asked), object as an item. */
export function maskRowAt(
  bytes: Buffer,
  start: number,
  ctx: MaskContext,
  kindHint: string | undefined,
  nameColumn: number,
): MaskedItem | undefined {
  return run(new ItemMasker(bytes, start, ctx), ctx, (m) => m.row(kindHint, nameColumn));
}

function run(m: ItemMasker, ctx: MaskContext, read: (m: ItemMasker) => void): MaskedItem | undefined {
  try {
    read(m);
  } catch {
    return undefined; // the slow path decides, and throws if the JSON is bad
  }
  for (const [rule, n] of m.counts) addCount(ctx.counts, rule, n);
  return { parts: m.finish(), end: m.pos };
}

class ItemMasker extends ValueMasker {
  /** Secret data (base64 of a marker) or stringData (a marker): every value, which must be a string here. */
  #secretValues(base64: boolean): void {
    this.members(() => {
      this.str();
      const value = this.text();
      const ph = this.ctx.ph;
      addCount(this.counts, "secret-data");
      this.ctx.remember?.(base64 ? Buffer.from(value, "base64") : Buffer.from(value, "utf8"));
      const out = base64 ? ph.base64MarkerOf(value) : ph.marker(value);
      this.replace(this.s - 1, this.e + 1, JSON.stringify(out));
    });
  }

  #configMapData(pattern: RegExp): void {
    this.members((key) => {
      if (!pattern.test(key)) {
        this.member(key);
        return;
      }
      this.str(); // a value that is not a string declines (the slow path marks its JSON)
      this.mark("configmap-key", strengthOf(key) === "strong");
    });
  }

  #annotation(key: string): void {
    if (this.b[this.pos] !== QUOTE) {
      this.skipValue(); // annotation values that are not strings are left as they are
      return;
    }
    this.str();
    if (key !== LAST_APPLIED) this.detect(false);
    else if (this.ctx.profile.lastAppliedConfiguration) {
      this.replace(this.s - 1, this.e + 1, JSON.stringify(maskLastApplied(this.text(), this.ctx)));
    }
  }

  /** maskManagedFields on one entry: its fieldsV1 as a field set, everything else walked. */
  #managedFieldsEntry(): void {
    if (this.b[this.pos] !== OPEN_OBJ) {
      this.element();
      return;
    }
    this.members((key) => {
      if (key === "fieldsV1" && this.b[this.pos] === OPEN_OBJ) this.#fieldSet();
      else this.member(key);
    });
  }

  /**
   * maskFieldSet, then walk: members named by value (`v:"--password=…"`) have their key searched; values that are
   * objects are field sets too, any other value is walked under the (masked) key, as walk() sees it afterwards.
   */
  #fieldSet(): void {
    this.members((key) => {
      let k = key;
      if (key.startsWith("v:")) {
        k = this.ctx.profile.detectors.maskString(key, this.ctx.ph, this.counts);
        if (k !== key) this.replace(this.s - 1, this.e + 1, JSON.stringify(k));
      }
      if (this.b[this.pos] !== OPEN_OBJ) this.member(k);
      else if (this.ctx.profile.secretReferences && REFERENCE_KEYS.has(k)) throw DECLINED;
      else this.#fieldSet();
    });
  }

  #metadata(secretName: boolean): void {
    this.members((key) => {
      const c = this.b[this.pos];
      if (key === "annotations") {
        if (c === OPEN_OBJ) this.members((k) => this.#annotation(k));
        else this.skipValue();
      } else if (key === "managedFields" && c === OPEN_ARR && this.ctx.profile.managedFields) {
        this.elements(() => this.#managedFieldsEntry());
      } else if (key === "managedFields") {
        this.subtree((v) => maskManagedFields(v, this.ctx));
      } else if (key === "name" && secretName && c === QUOTE) {
        this.str();
        this.mark("secret-name");
      } else {
        this.member(key);
      }
    });
  }

  /** maskObject on one item. */
  item(kindHint: string | undefined): void {
    const profile = this.ctx.profile;
    const listLike = (k: string | undefined) => k === "Table" || k?.endsWith("List") === true;
    this.ws();
    if (this.b[this.pos] !== OPEN_OBJ || listLike(kindHint) || CREDENTIAL_KINDS.has(kindHint ?? ""))
      throw DECLINED;
    let kind = kindHint;
    let first = true;
    this.members((key) => {
      const c = this.b[this.pos];
      if (key === "kind") {
        // A late or second kind could change the rules for members already passed.
        if (!first || c !== QUOTE) throw DECLINED;
        this.str();
        kind = this.text();
        if (listLike(kind) || CREDENTIAL_KINDS.has(kind)) throw DECLINED;
        this.detect(false);
      } else if (kind === "Secret" && (key === "data" || key === "stringData")) {
        if (!profile.secretData) this.skipValue();
        else if (c === OPEN_OBJ) this.#secretValues(key === "data");
        else throw DECLINED;
      } else if (kind === "ConfigMap" && profile.configMapKey && key === "data" && c === OPEN_OBJ) {
        this.#configMapData(profile.configMapKey);
      } else if (kind === "ConfigMap" && profile.configMapKey && key === "binaryData") {
        throw DECLINED;
      } else if (key === "metadata" && c === OPEN_OBJ) {
        this.#metadata(kind === "Secret" && profile.secretNames);
      } else if (c === QUOTE) {
        this.str();
        this.detect(false); // strings directly in the item get the detectors only, as in maskObject
      } else {
        this.nested(key, c);
      }
      first = false;
    });
    if (this.pos <= this.start) throw DECLINED;
  }

  /** maskTableRow on one row. Cells that are not an array, like the slow path, are left as they are. */
  row(kindHint: string | undefined, nameColumn: number): void {
    const markName = kindHint === "Secret" && this.ctx.profile.secretNames;
    this.ws();
    if (this.b[this.pos] !== OPEN_OBJ) throw DECLINED;
    this.members((key) => {
      const c = this.b[this.pos];
      if (key === "cells" && c === OPEN_ARR) {
        let i = 0;
        this.elements(() => {
          const column = i++;
          if (this.b[this.pos] !== QUOTE) this.nested("", this.b[this.pos]);
          else {
            this.str();
            if (column === nameColumn && markName) this.mark("secret-name");
            else this.detect(false);
          }
        });
      } else if (key === "cells") {
        this.skipValue();
      } else if (key === "object" && c === OPEN_OBJ) {
        this.item(kindHint);
      } else if (c === QUOTE) {
        this.str();
        this.detect(false);
      } else {
        this.nested(key === "object" ? "" : key, c);
      }
    });
  }

  /** maskWatchEvent on one event. */
  event(kindHint: string | undefined): void {
    this.ws();
    this.members((key) => {
      const c = this.b[this.pos];
      if (c === OPEN_OBJ) this.item(key === "object" ? kindHint : undefined);
      else if (c !== QUOTE) this.nested("", c);
      else {
        this.str();
        this.detect(false);
      }
    });
  }
}
