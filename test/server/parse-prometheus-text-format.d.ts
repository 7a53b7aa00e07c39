/** Types for parse-prometheus-text-format (it ships none): the Prometheus text format as metric families. */
declare module 'parse-prometheus-text-format' {
  /** One sample of a gauge, counter or untyped family. */
  export interface Sample {
    readonly value: string;
    readonly labels?: Readonly<Record<string, string>>;
  }
  /** One metric family. */
  export interface Family {
    readonly name: string;
    readonly help: string;
    readonly type: string;
    readonly metrics: readonly Sample[];
  }
  /** Parses exposition text; throws on malformed input. */
  export default function parsePrometheusTextFormat(text: string): Family[];
}
