// One client connection's state, as CLIENT and HELLO see and change it.
export interface Session {
  readonly id: number;
  readonly address: string;
  readonly createdAt: number;
  name: string;
  libName: string;
  libVersion: string;
  /** RESP version this connection speaks (HELLO switches it). */
  protocol: 2 | 3;
  /** False until AUTH when the server has a password. */
  authenticated: boolean;
  /** Lower-case name of the last command run, for CLIENT LIST. */
  lastCommand: string;
  lastActive: number;
  /** Set by QUIT: close once the replies before it are written. */
  closing: boolean;
}
