/**
 * HeldAlerts are the firing alerts whose escalation waits because something suppresses them
 * (a silence, an SLA they depend on firing), indexed by the SLAs they depend on, so that an
 * SLA that stops firing finds the alerts it may release without a scan.
 */
export class HeldAlerts {
  private readonly ids = new Set<string>();
  /** SLA name → held alerts that depend on it. */
  private readonly byDep = new Map<string, Set<string>>();

  has(id: string): boolean {
    return this.ids.has(id);
  }

  get size(): number {
    return this.ids.size;
  }

  /** all is every held alert's id (a copy: releasing changes the set). */
  all(): string[] {
    return [...this.ids];
  }

  /** dependents are the held alerts that depend on an SLA, if any. */
  dependents(sla: string): ReadonlySet<string> | undefined {
    return this.byDep.get(sla);
  }

  add(id: string, dependsOn: readonly string[]): void {
    this.ids.add(id);
    for (const dep of dependsOn) {
      let ids = this.byDep.get(dep);
      if (!ids) this.byDep.set(dep, (ids = new Set()));
      ids.add(id);
    }
  }

  /** delete forgets a held alert and says whether it was held. */
  delete(id: string, dependsOn: readonly string[]): boolean {
    if (!this.ids.delete(id)) return false;
    for (const dep of dependsOn) {
      const ids = this.byDep.get(dep);
      ids?.delete(id);
      if (ids?.size === 0) this.byDep.delete(dep);
    }
    return true;
  }
}
