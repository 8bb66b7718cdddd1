import type { ArtifactRecord } from '../../store/types.js';

/** The lookups conflict detection needs, kept incrementally so a full scan stays linear-ish. */
export class ArtifactIndex {
  readonly byId = new Map<string, ArtifactRecord>();
  private readonly byType = new Map<string, ArtifactRecord[]>();
  private readonly byTypeIteration = new Map<string, ArtifactRecord[]>();
  private readonly latestOfType = new Map<string, ArtifactRecord>();

  constructor(artifacts: Iterable<ArtifactRecord> = []) {
    for (const artifact of artifacts) this.add(artifact);
  }

  add(artifact: ArtifactRecord): void {
    this.byId.set(artifact.id, artifact);
    push(this.byType, artifact.type, artifact);
    push(this.byTypeIteration, `${artifact.type}\u0000${artifact.iteration}`, artifact);
    const latest = this.latestOfType.get(artifact.type);
    if (!latest || artifact.version > latest.version) this.latestOfType.set(artifact.type, artifact);
  }

  ofType(type: string): readonly ArtifactRecord[] {
    return this.byType.get(type) ?? [];
  }

  sameSlot(type: string, iteration: number): readonly ArtifactRecord[] {
    return this.byTypeIteration.get(`${type}\u0000${iteration}`) ?? [];
  }

  /** The highest version of a type. */
  latest(type: string): ArtifactRecord | undefined {
    return this.latestOfType.get(type);
  }

  /**
   * Whether `type` or `type@version` names an artifact we have. With an iteration, an unpinned
   * `type` must have been declared in that iteration (a result of another commit says nothing about
   * this one); a pinned `type@version` names one artifact, whatever its iteration.
   */
  has(dependency: string, iteration?: number): boolean {
    const { type, version } = parseDependency(dependency);
    if (version !== undefined) return this.ofType(type).some((a) => a.version === version);
    return iteration === undefined ? this.ofType(type).length > 0 : this.sameSlot(type, iteration).length > 0;
  }

  types(): IterableIterator<string> {
    return this.byType.keys();
  }
}

export function parseDependency(dependency: string): { type: string; version?: number } {
  const at = dependency.lastIndexOf('@');
  const version = at > 0 ? Number(dependency.slice(at + 1)) : Number.NaN;
  return Number.isInteger(version) && version > 0 ? { type: dependency.slice(0, at), version } : { type: dependency };
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
