// `npm run bench -- --quick` promises every scenario in under two minutes.
// Its plan (bench/lib/plan.mjs) is what the scenarios read in quick mode;
// this checks the plan covers every scenario, names cells and servers the
// scenarios have, and that its computed budget fits, without running it.
import { describe, expect, it } from 'vitest';
// @ts-expect-error: the bench is plain JavaScript, with no type declarations
import * as plan from '../bench/lib/plan.mjs';
// @ts-expect-error: as above
import { allCells as echoCells } from '../bench/echo.mjs';
// @ts-expect-error: as above
import { servers as echoServers } from '../bench/lib/servers.mjs';
// @ts-expect-error: as above
import * as twisted from '../bench/twisted.mjs';
// @ts-expect-error: as above
import * as socketserver from '../bench/socketserver.mjs';
// @ts-expect-error: as above
import { WARMUP as PARSE_WARMUP } from '../bench/asynchat_parse.mjs';
// @ts-expect-error: as above
import { allServers as memoryServers, WARM_CONNS as MEMORY_WARM_CONNS } from '../bench/memory.mjs';

interface Named {
  id: string;
}
interface MatrixPlan {
  cells: string[];
  servers: string[];
  forking?: string[];
}

const ids = (list: Named[]): string[] => list.map((x) => x.id);
const QUICK = plan.QUICK as Record<string, MatrixPlan>;

describe('bench --quick plan', () => {
  it('covers every scenario', () => {
    expect(Object.keys(plan.QUICK).sort()).toEqual(Object.keys(plan.SCENARIO_FILES).sort());
    const costs = plan.quickCosts() as Record<string, number>;
    expect(Object.keys(costs).sort()).toEqual(Object.keys(plan.SCENARIO_FILES).sort());
    for (const seconds of Object.values(costs)) expect(seconds).toBeGreaterThan(0);
  });

  it('fits in its limit of two minutes', () => {
    expect(plan.QUICK_LIMIT_S).toBe(120);
    expect(plan.quickBudget()).toBeLessThanOrEqual(plan.QUICK_LIMIT_S);
  });

  it('names cells and servers the scenarios have', () => {
    const cases: Array<[string, Named[], Named[]]> = [
      ['echo', echoCells, echoServers],
      ['churn', [{ id: 'churn-10' }], echoServers],
      ['twisted', [...twisted.echoCells, ...twisted.churnCells], twisted.allServers],
      ['socketserver', [...socketserver.echoCells, ...socketserver.churnCells], socketserver.allServers],
    ];
    for (const [name, cells, servers] of cases) {
      const quick = QUICK[name]!;
      expect(quick.cells.length).toBeGreaterThan(0);
      expect(ids(cells)).toEqual(expect.arrayContaining(quick.cells));
      expect(ids(servers)).toEqual(expect.arrayContaining(quick.servers));
    }
    expect(QUICK.socketserver!.servers).toEqual(expect.arrayContaining(QUICK.socketserver!.forking!));
  });

  it('names memory servers the scenario has, with more connections than its warm-up', () => {
    const memory = plan.QUICK.memory as { servers: string[]; conns: number; reps: number };
    expect(memory.servers.length).toBeGreaterThan(0);
    expect(ids(memoryServers)).toEqual(expect.arrayContaining(memory.servers));
    expect(memory.conns).toBeGreaterThan(MEMORY_WARM_CONNS);
    expect(memory.reps).toBeGreaterThan(0);
  });

  it("prices asynchat_parse's untimed passes as the scenario makes them", () => {
    expect(plan.PARSE_UNTIMED_PASSES).toBe(PARSE_WARMUP);
  });

  it('counts a run that goes over', () => {
    // The same plan with every echo cell: the budget must see the cost.
    const bigger = { ...plan.QUICK, echo: { ...plan.QUICK.echo, cells: ids(echoCells), reps: 3 } };
    expect(plan.quickBudget(bigger)).toBeGreaterThan(plan.QUICK_LIMIT_S);
    // And the memory scenario's full size in quick mode.
    const fullMemory = { ...plan.QUICK, memory: { ...plan.QUICK.memory, conns: 10_000, reps: 3 } };
    expect(plan.quickCosts(fullMemory).memory).toBeGreaterThan(plan.quickCosts().memory);
  });
});
