# node-gyp reads binding.gyp; the target is in native/asyncore.gypi, which the
# published package ships (this file it does not: see there).
{ "includes": ["native/asyncore.gypi"] }
