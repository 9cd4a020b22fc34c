set terminal pngcairo size 800,600 enhanced
set encoding utf8
set output 'learning_curve.png'
set title 'validation RMSE (EMA weights)'
set xlabel 'epoch'
set ylabel 'RMSE'
set logscale y
set grid
set key top right
plot 'learning_curve.dat' using 1:2 with linespoints title 'energy (meV/atom)', 'learning_curve.dat' using 1:3 with linespoints title 'forces (meV/Å)', 'learning_curve.dat' using 1:4 with linespoints title 'stress (meV/Å^3)'
