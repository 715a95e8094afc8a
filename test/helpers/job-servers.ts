/** JobServers on port 0 and raw PacketSockets to them, opened by a test and closed after it (sockets first). */
import { afterEach } from 'vitest';
import { JobServer, type JobServerOptions } from '../../src/server/job-server.ts';
import { PacketSocket } from './packet-socket.ts';

export interface JobServers {
  /** A JobServer on a free port (options over `{ port: 0 }`), closed after the test. */
  listen(options?: JobServerOptions): Promise<JobServer>;
  /** A raw peer connected to `server`, closed after the test before the servers are. */
  open(server: JobServer): Promise<PacketSocket>;
}

/** Registers the afterEach that closes what `listen` and `open` made; call it at the top of a test file. */
export function useJobServers(): JobServers {
  const servers: JobServer[] = [];
  const sockets: PacketSocket[] = [];
  afterEach(async () => {
    await Promise.all(sockets.splice(0).map((s) => s.close()));
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  return {
    async listen(options: JobServerOptions = {}): Promise<JobServer> {
      const server = await JobServer.listen({ port: 0, ...options });
      servers.push(server);
      return server;
    },
    async open(server: JobServer): Promise<PacketSocket> {
      const socket = await PacketSocket.connect(server.port);
      sockets.push(socket);
      return socket;
    },
  };
}
