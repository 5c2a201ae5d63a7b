// Types of the Node client for coworker (docs/clients.md).
import { EventEmitter } from 'events';

export interface Curve { serverKey: string; publicKey: string; secretKey: string }

export interface RunRecord {
  id: string; operation: string; status: string; chainId: string; stepId: string | null;
  input: unknown; output: unknown; error: { code: string; message: string; runId: string; operation: string; path?: string } | null;
  attempts: number; childRunIds: string[]; ownerRunId: string | null; parentRunId: string | null;
  created: number; started: number | null; finished: number | null; [field: string]: unknown;
}
export interface RunTree extends RunRecord { children: RunTree[] }
export interface Envelope { event: string; seq: number; epoch: string; stream: string; time: number; run: RunRecord }
export interface Snapshot { event: 'snapshot' | 'resync'; node: number; seq: number; epoch: string; stream: string; runs: RunRecord[] }

export class CoworkerError extends Error {
  constructor(code: string, message: string, path?: string);
  code: string; path?: string; reason: string;
}

export class Client {
  constructor(options?: { requests?: string; events?: string; timeout?: number; curve?: Curve });
  call(request: Record<string, unknown>, options?: { timeout?: number }): Promise<Record<string, any>>;
  run(chain: object | undefined, options?: { input?: unknown; wait?: boolean; key?: string; timeout?: number; chainRef?: string; startDelayMs?: number; traceparent?: string }):
    Promise<{ runId: string; status: string; tree?: RunTree }>;
  get(runId: string, options?: { tree?: boolean }): Promise<RunRecord | RunTree>;
  list(options?: { status?: string; chainId?: string; limit?: number }): Promise<RunRecord[]>;
  cancel(runId: string): Promise<void>;
  signal(options: { key?: string; payload?: unknown; runId?: string }): Promise<{ delivered?: true; runId?: string; kept?: true }>;
  redrive(runId: string, options?: { dryRun?: boolean }): Promise<{ runId: string; redrives?: number; wouldRun: string[] }>;
  publish(name: string, chain: object, options?: { inputSchema?: object; outputSchema?: object }):
    Promise<{ name: string; version: number; sha256: string; created: boolean }>;
  chains(): Promise<Array<{ name: string; versions: Array<{ version: number; sha256: string; created: number }>; aliases: Record<string, number> }>>;
  snapshot(recent?: number): Promise<{ seq: number; epoch: string; stream: string; runs: RunRecord[] }>;
  nodes(): Promise<Array<{ node: string; self: boolean; requests?: string; events?: string; workers?: string; http?: string }>>;
  cluster(): Promise<Client[]>;
  watch(options?: { chainId?: string; timeout?: number }): AsyncGenerator<Envelope | Snapshot>;
  close(): void;
}

/** Follows every node of a cluster, one Client per node (docs/cluster.md, "Events"). */
export function watchCluster(clients: Client[], options?: { chainId?: string; timeout?: number }): AsyncGenerator<Envelope | Snapshot>;

export class Worker extends EventEmitter {
  constructor(options?: { endpoint?: string | string[]; capacity?: number; curve?: Curve });
  operation(name: string, fn: (input: any, task: Record<string, any>) => unknown | Promise<unknown>, options?: { inputSchema?: object }): this;
  run(): Promise<void>;
  stop(): void;
  served: number;
  welcomes: number;
}
