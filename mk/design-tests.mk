# The design tests share tests/design_util.h: rebuild them when it changes.
$(filter $(BUILD)/tests/test_design_%,$(TEST_BIN)): tests/design_util.h
