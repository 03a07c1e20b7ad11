// fast-check's default 'small' size caps generated arrays at about ten
// elements whatever their maxLength says; 'medium' lets a sequence of
// operations reach the lengths the tests ask for. A property that fails on
// a long input can shrink for minutes on the calling thread, where no test
// timeout reaches it: cut the whole run short and call that a failure. The
// limit leaves room for the slowest property on a loaded 2-core machine
// (db.test.ts: 26 s alone, up to 70 s beside another test file on a busy host).
import fc from 'fast-check';

fc.configureGlobal({ ...fc.readConfigureGlobal(), baseSize: 'medium', interruptAfterTimeLimit: 120_000, markInterruptAsFailure: true });
