/** Options every benchmark suite receives from `bench/run.ts`. */
export interface BenchOptions {
  /** Short runs (a smoke check of the suite, numbers not representative). */
  quick: boolean;
}

/** A row of the printed table: column name → value. */
export type BenchRow = Record<string, string | number>;

/** What a suite returns: rows to print and a JSON payload saved to `bench/results/<name>.json`. */
export interface BenchResult {
  rows: BenchRow[];
  json: unknown;
}

/** A module in `bench/suites/` exports `name` and `run`. */
export interface BenchSuite {
  name: string;
  run(options: BenchOptions): Promise<BenchResult>;
}
