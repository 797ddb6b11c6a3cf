#ifndef JITMM_VERSION_H
#define JITMM_VERSION_H

#define JITMM_VERSION "0.1.0"
#ifndef JITMM_GIT_SHA
#define JITMM_GIT_SHA "unknown"
#endif

#endif
