// The rule a case's progress follows from its visits: the same as the server's
// (field/services/cases.py, visit_progress and progress_of), so that a visit
// recorded offline shows at once what the server will make of it.
//   resolved: found with a resolution, or an outcome that ends the search;
//   found:    found at the address or elsewhere, what becomes of them not decided;
//   visited:  any other outcome (not found, moved away);
//   new:      no visit yet.
// A case takes the highest rank of its visits, whatever order they came in.
export const RANK = { new: 0, visited: 1, found: 2, resolved: 3 };
export const FOUND = ["found_at_address", "found_elsewhere"];
// The outcomes that may say where the child lives now (the server's MOVED).
export const MOVED = ["moved_away", "found_elsewhere"];
const ENDS_SEARCH = ["deceased", "already_enrolled", "duplicate"];

export function visitProgress(outcome, resolution = "") {
  if (ENDS_SEARCH.includes(outcome) || (FOUND.includes(outcome) && resolution)) {
    return "resolved";
  }
  if (FOUND.includes(outcome)) {
    return "found";
  }
  return "visited";
}

export function progressOf(visits) {
  let best = "new";
  for (const visit of visits) {
    const progress = visitProgress(visit.outcome, visit.resolution || "");
    if (RANK[progress] > RANK[best]) {
      best = progress;
    }
  }
  return best;
}

// The household moves to the member's GPS point, as on the server: when they
// say the house is here, or found the child at the address with a fix.
export function movesHousehold(visit) {
  return visit.lon != null && visit.lat != null &&
    (visit.house_here || visit.outcome === "found_at_address");
}
