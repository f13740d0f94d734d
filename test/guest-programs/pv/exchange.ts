// The agreement between the two exchange guests (in place of a store like xenstore).
export const enum Exchange {
  PRODUCER = 1,
  CONSUMER = 2,
  /** the producer's first allocated port (port 1 is its console ring's) */
  PORT = 2,
  GREF = 8,
  /** where each guest maps the grant table frame / the granted page */
  GNTTAB_VA = 0x3000,
  MAP_VA = 0x5000,
}
