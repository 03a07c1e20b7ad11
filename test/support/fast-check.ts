// fast-check's default 'small' size caps generated arrays at about ten
// elements whatever their maxLength says; 'medium' lets a sequence of
// operations reach the lengths the tests ask for. A property that fails on
// a long input can shrink for minutes on the calling thread, where no test
// timeout reaches it: cut the whole run short and call that a failure.
import fc from 'fast-check';

fc.configureGlobal({ ...fc.readConfigureGlobal(), baseSize: 'medium', interruptAfterTimeLimit: 45_000, markInterruptAsFailure: true });
