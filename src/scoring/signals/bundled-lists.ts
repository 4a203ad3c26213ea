/**
 * The reputation lists compiled by `npm run build` from rules/lists/ (build/lists.bin),
 * bundled into the Worker as a Data module. Worker-only: Node code reads the file.
 */
import data from "../../../build/lists.bin";
import { loadReputationLists, type ReputationLists } from "./ip-reputation.ts";

let lists: ReputationLists | undefined;

/** The bundled lists, decoded once per isolate. */
export function bundledLists(): ReputationLists {
  lists ??= loadReputationLists(data);
  return lists;
}
