// fast-check's default 'small' size caps generated arrays at about ten
// elements whatever their maxLength says; 'medium' lets a sequence of
// operations reach the lengths the tests ask for.
import fc from 'fast-check';

fc.configureGlobal({ ...fc.readConfigureGlobal(), baseSize: 'medium' });
