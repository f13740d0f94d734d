// The socket system calls (socket, bind, sendto, recvfrom; close is close()) and netinfo: argument
// checks and file descriptors here, the protocol work in net.ts.
// Guest code (the TypeScript subset).

import { staticBuffer } from 'xl32';
import { Err, SockType, NetInfo } from '../abi.ts';
import { fdAlloc, fdFile } from '../proc.ts';
import { fileAlloc, fileClose, fileSocket, FileType } from '../file.ts';
import { copyout, checkUserBuffer } from '../vm.ts';
import { netUp, netInfo, sockAlloc, sockClose, sockBind, sockSend, sockRecv, sockType } from './net.ts';

/** The socket behind descriptor fd, or 0. */
function sock(fd: number): number {
  const f = fdFile(fd);
  return f === 0 ? 0 : fileSocket(f);
}

export function sysSocket(type: number): number {
  if (type !== SockType.UDP && type !== SockType.ICMP) return Err.EPROTONOSUPPORT;
  if (!netUp()) return Err.ENETDOWN;
  const s = sockAlloc(type);
  if (s < 0) return s;
  const f = fileAlloc(FileType.SOCKET, true, true, s);
  if (f === 0) {
    sockClose(s);
    return Err.ENFILE;
  }
  const fd = fdAlloc(f);
  if (fd < 0) fileClose(f);
  return fd;
}

export function sysBind(fd: number, port: number): number {
  const s = sock(fd);
  if (s === 0) return Err.EBADF;
  return sockBind(s, port);
}

export function sysSendto(fd: number, buf: number, n: number, ip: number, port: number): number {
  const s = sock(fd);
  if (s === 0 || sockType(s) === 0) return Err.EBADF;
  if (n < 0) return Err.EINVAL;
  if (checkUserBuffer(buf, n, false) < 0) return Err.EFAULT;
  return sockSend(s, buf, n, ip, port);
}

export function sysRecvfrom(fd: number, buf: number, n: number, addr: number, timeoutTicks: number): number {
  const s = sock(fd);
  if (s === 0 || sockType(s) === 0) return Err.EBADF;
  if (n < 0 || timeoutTicks < 0) return Err.EINVAL;
  if (checkUserBuffer(buf, n, true) < 0) return Err.EFAULT;
  return sockRecv(s, buf, n, addr, timeoutTicks);
}

const info = staticBuffer(NetInfo.BYTES);

export function sysNetinfo(buf: number): number {
  netInfo(info);
  return copyout(buf, info, NetInfo.BYTES) < 0 ? Err.EFAULT : 0;
}
