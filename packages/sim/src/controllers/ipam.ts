// Address allocation for the one simulated node: pod IPs from 10.244.0.0/16 in order (as a node's pod CIDR hands them
// out) and ClusterIPs from 10.96.0.0/16 at random (as kube-apiserver's allocator does). Addresses already in the store
// are reserved first, so a restarted controller set never hands out a duplicate.
import { randomInt } from "node:crypto";

export interface IpPool {
  allocate(): string;
  reserve(ip: string | undefined): void;
}

/** The n-th host address of a /16, skipping .0 and .255 of each /24. */
export function hostAddress(prefix: string, n: number): string {
  const third = Math.floor(n / 254) % 256;
  const fourth = (n % 254) + 1;
  return `${prefix}.${third}.${fourth}`;
}

const CAPACITY = 256 * 254;

export function createIpPool(prefix: string, order: "sequential" | "random", firstIndex = 0): IpPool {
  const used = new Set<string>();
  let next = firstIndex;
  return {
    reserve(ip) {
      if (ip) used.add(ip);
    },
    allocate() {
      for (let tries = 0; tries < CAPACITY; tries++) {
        const n = order === "sequential" ? next++ % CAPACITY : randomInt(firstIndex, CAPACITY);
        const ip = hostAddress(prefix, n);
        if (!used.has(ip)) {
          used.add(ip);
          return ip;
        }
      }
      throw new Error(`address pool ${prefix}.0.0/16 is exhausted`);
    },
  };
}
