#!/bin/sh
# stream: the client messages (subscribe, unsubscribe) and user names.
exec build/t/stream_msg
