set terminal pngcairo size 800,600 enhanced
set encoding utf8
set output 'parity_stress.png'
set title 'test stress: RMSE 2.551 meV/Å^3 (657 values)'
set xlabel 'reference stress component (meV/Å^3)'
set ylabel 'predicted stress component (meV/Å^3)'
set size square
set grid
set key top left
plot 'parity_stress.dat' using 1:2 with points pt 7 ps 0.5 title 'test', x with lines lc rgb 'gray' title 'y = x'
