// Loads the RequestInfo vectors of the wire protocol (kubernetes-wire-protocol.md §1.2) from test/fixtures.

import { readFileSync } from "node:fs";

export interface Vector {
  method: string;
  url: string;
  note: string;
  isResourceRequest: boolean;
  verb: string;
  apiPrefix: string;
  apiGroup: string;
  apiVersion: string;
  namespace: string;
  resource: string;
  subresource: string;
  name: string;
  parts: string[] | null;
  fieldSelector: string;
  labelSelector: string;
  error?: string;
}

// The project keeps its own copy of the wire-protocol vectors (from the team's shared testdata), so a clone anywhere
// runs the classifier tests without files outside the repository.
export const VECTORS_URL = new URL("../fixtures/requestinfo-vectors.json", import.meta.url);

export function loadVectors(): Vector[] {
  return JSON.parse(readFileSync(VECTORS_URL, "utf8")) as Vector[];
}

/** Vectors whose raw target path hygiene refuses on purpose, with the reason; every other vector must pass it. */
export const REFUSED_BY_HYGIENE: Record<string, string> = {
  "/api/v1/namespaces/default/configmaps/a%2Fb": 'encoded "/" in path',
};
