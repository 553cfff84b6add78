# Guide §8.8: power stock through sysfs, after loading the driver.
# @config t20-rpm
sudo ./enflame-xxx.run
sudo cat /sys/class/enflame/gcu0/device/power_stock/enable_power_stock
sudo echo 0 > /sys/class/enflame/gcu0/device/power_stock/enable_power_stock
sudo echo 1 > /sys/class/enflame/gcu0/device/power_stock/enable_power_stock
# @expect accepted
