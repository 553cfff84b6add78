# Guide §11.3: switch GCU resets off, and back to the saved default.
# @config t20-reset
sudo ./enflame-xxx.run
cat /sys/bus/pci/drivers/enflame/reset_enable
echo 0 > /sys/bus/pci/drivers/enflame/reset_enable
efsmi -r hot -i 0
# @expect refused
echo 0xffffffff > /sys/bus/pci/drivers/enflame/reset_enable
efsmi -r hot -i 0
# @expect accepted
