// Only the CICUShim C target includes this; Swift code never imports CICU (see Package.swift).
#include <unicode/utypes.h>
#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/uscript.h>
#include <unicode/ubrk.h>
#include <unicode/ustring.h>
#include <unicode/ucasemap.h>
#include <unicode/utrans.h>
#include <unicode/uloc.h>
