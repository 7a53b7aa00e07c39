/**
 * The dependency graph of berth.yaml's services, pure: start order (dependencies first),
 * shutdown order (dependents first), the closure of a subset, cycles. One home for the
 * order that `berth up`, `berth down`, the daemon and the uDOS routes' startup_order /
 * shutdown_order all use.
 */

/** A node: a name and the names it depends on. */
export interface GraphNode {
  readonly name: string;
  readonly needs: readonly string[];
}

/**
 * A cycle through `needs`, as the names along it with the first repeated at the end
 * (`a → b → a`), or null. Nodes are visited in the order given, so the answer is stable.
 * Names missing from `nodes` are ignored (unknown dependencies are reported apart).
 */
export function findCycle(nodes: readonly GraphNode[]): string[] | null {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (name: string): string[] | null => {
    const mark = state.get(name);
    if (mark === 'done') return null;
    if (mark === 'open') return [...path.slice(path.indexOf(name)), name];
    state.set(name, 'open');
    path.push(name);
    for (const next of byName.get(name)?.needs ?? []) {
      if (!byName.has(next)) continue;
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(name, 'done');
    return null;
  };
  for (const node of nodes) {
    const cycle = visit(node.name);
    if (cycle) return cycle;
  }
  return null;
}

/**
 * Every node in start order: each after all it needs, otherwise in the order given
 * (stable: berth.yaml's order breaks ties). Assumes no cycle (config validation refuses
 * them); a node in a cycle would be left out.
 */
export function startOrder(nodes: readonly GraphNode[]): string[] {
  const names = new Set(nodes.map((n) => n.name));
  const placed = new Set<string>();
  const order: string[] = [];
  let progress = true;
  while (progress && order.length < nodes.length) {
    progress = false;
    for (const node of nodes) {
      if (placed.has(node.name)) continue;
      if (node.needs.every((n) => placed.has(n) || !names.has(n))) {
        placed.add(node.name);
        order.push(node.name);
        progress = true;
      }
    }
  }
  return order;
}

/** Shutdown order: the start order reversed, so dependents stop before what they need. */
export function shutdownOrder(nodes: readonly GraphNode[]): string[] {
  return startOrder(nodes).reverse();
}

/**
 * The names a selection brings up: the selected ones and, unless `noDeps`, everything
 * they need, transitively; in start order. An empty selection means every node.
 */
export function selectWithDependencies(nodes: readonly GraphNode[], selected: readonly string[], noDeps = false): string[] {
  if (selected.length === 0) return startOrder(nodes);
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const wanted = new Set<string>();
  const add = (name: string): void => {
    if (wanted.has(name)) return;
    wanted.add(name);
    if (!noDeps) for (const next of byName.get(name)?.needs ?? []) add(next);
  };
  selected.forEach(add);
  return startOrder(nodes).filter((n) => wanted.has(n));
}

/**
 * The names that need `selected`, transitively (the selected ones included), in shutdown
 * order: what `berth down api` must stop so nothing runs without a dependency.
 */
export function selectWithDependents(nodes: readonly GraphNode[], selected: readonly string[]): string[] {
  if (selected.length === 0) return shutdownOrder(nodes);
  const wanted = new Set(selected);
  let grew = true;
  while (grew) {
    grew = false;
    for (const node of nodes) {
      if (!wanted.has(node.name) && node.needs.some((n) => wanted.has(n))) {
        wanted.add(node.name);
        grew = true;
      }
    }
  }
  return shutdownOrder(nodes).filter((n) => wanted.has(n));
}
